package io.szpool.catalog;

import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.EventCodec;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.Postgres;
import io.szpool.testing.ServiceProcess;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The catalog's benchmark driver (run by {@code catalog-service/bench/run}, skipped otherwise): a
 * simulated fleet's device events go onto the real topic first, then the packaged catalog-service
 * starts and consumes them; the driver prints its ingest rate next to the upper bound of writing
 * the same rows into the same PostgreSQL with batched JDBC, and the latency of the API's queries
 * next to the same SQL over JDBC, and the dashboard's first paint in Chromium. It asserts nothing
 * about time: the figures are for people.
 */
class CatalogBenchIT {
    static final int CHUNKS_PER_POOL = 6;
    static final int POOLS_PER_HOST = 10;
    static final int FAULTED_EVERY = 1000;

    @Test
    void bench() throws Exception {
        String events = System.getProperty("szpool.bench.events");
        Assumptions.assumeTrue(
                events != null, "a benchmark: run catalog-service/bench/run (szpool.bench.events)");
        int chunks = Integer.parseInt(events) / 2;
        int pools = Math.max(1, chunks / CHUNKS_PER_POOL);
        chunks = pools * CHUNKS_PER_POOL;
        int queries = Integer.getInteger("szpool.bench.queries", 200);
        Path report = Path.of("target", "bench.txt");
        try (PrintStream out = new PrintStream(Files.newOutputStream(report), true)) {
            run(out, pools, chunks, queries);
        }
        System.out.println(Files.readString(report));
    }

    private void run(PrintStream out, int pools, int chunks, int queries) throws Exception {
        String bootstrap = KafkaBroker.shared().bootstrapServers();
        Postgres pg = Postgres.shared();
        String url = NewDatabase.create(pg, "catalog_bench");
        String run = UUID.randomUUID().toString().substring(0, 6);
        int hosts = Math.max(1, pools / POOLS_PER_HOST);

        long t0 = System.nanoTime();
        long[] produced = {0};
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                bootstrap,
                                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class,
                                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class,
                                ProducerConfig.LINGER_MS_CONFIG,
                                20,
                                ProducerConfig.BATCH_SIZE_CONFIG,
                                256 * 1024))) {
            AtomicReference<Exception> failed = new AtomicReference<>();
            fleet(
                    run,
                    pools,
                    hosts,
                    e -> {
                        produced[0]++;
                        producer.send(
                                CloudEventRecords.toProducerRecord(e),
                                (m, x) -> {
                                    if (x != null) {
                                        failed.set(x);
                                    }
                                });
                    });
            producer.flush();
            if (failed.get() != null) {
                throw failed.get();
            }
        }
        double produceSeconds = (System.nanoTime() - t0) / 1e9;
        long total = produced[0];
        out.printf(
                Locale.ROOT,
                "fleet: %d hosts, %d pools of %d chunks, %d chunks, %d events (ChunkCreated,"
                        + " ChunkAttached, 1 in %d chunks ChunkFailed) on szpool.device-events%n",
                hosts,
                pools,
                CHUNKS_PER_POOL,
                chunks,
                total,
                FAULTED_EVERY);
        out.printf(
                Locale.ROOT,
                "produce: %.1f s (%.0f events/s)%n",
                produceSeconds,
                total / produceSeconds);

        // The same rows, written the fastest plain way: batched JDBC inserts, one commit per
        // 10,000.
        double peerSeconds = peer(url, pg, run, pools, hosts);
        out.printf(
                Locale.ROOT,
                "peer (batched JDBC insert of the same chunk, pool, event_log and processed_event"
                        + " rows, same PostgreSQL): %.1f s, %.0f events/s%n",
                peerSeconds,
                total / peerSeconds);

        Map<String, String> config =
                Map.of(
                        "kafka.bootstrap.servers",
                        bootstrap,
                        "quarkus.datasource.jdbc.url",
                        url,
                        "quarkus.datasource.username",
                        pg.user(),
                        "quarkus.datasource.password",
                        pg.password(),
                        "mp.messaging.incoming.device-events.group.id",
                        "bench-" + run,
                        "mp.messaging.incoming.pool-events.group.id",
                        "bench-" + run,
                        "mp.messaging.incoming.sync-events.group.id",
                        "bench-" + run,
                        "mp.messaging.incoming.commands.group.id",
                        "bench-" + run);
        try (Connection db = DriverManager.getConnection(url, pg.user(), pg.password())) {
            long start = System.nanoTime();
            try (ServiceProcess catalog =
                    ServiceProcess.start("catalog-service", "catalog-bench", config)) {
                long ready = System.nanoTime();
                long last = 0;
                long lastChange = System.nanoTime();
                while (true) {
                    long done = cataloged(db, run);
                    if (done >= total) {
                        break;
                    }
                    if (done != last) {
                        last = done;
                        lastChange = System.nanoTime();
                    } else if (System.nanoTime() - lastChange > 120e9) {
                        throw new IllegalStateException(
                                "ingest stalled at " + done + " of " + total);
                    }
                    Thread.sleep(1000);
                }
                double ingest = (System.nanoTime() - ready) / 1e9;
                out.printf(
                        Locale.ROOT,
                        "catalog ingest (from ready to the last event cataloged; startup %.1f s"
                                + " not counted): %.1f s, %.0f events/s, %.3fx the peer%n",
                        (ready - start) / 1e9,
                        ingest,
                        total / ingest,
                        peerSeconds / ingest);
                Random random = new Random(1);
                latency(
                        out,
                        "GET /api/pools/{id}",
                        queries,
                        () -> ok(catalog.get("/api/pools/bp-" + run + "-" + random.nextInt(pools))),
                        "JDBC select of the pool's chunks",
                        () ->
                                jdbc(
                                        db,
                                        "select * from chunk where pool_id = 'bp-"
                                                + run
                                                + "-"
                                                + random.nextInt(pools)
                                                + "'"));
                latency(
                        out,
                        "GET /api/chunks?state=faulted",
                        queries,
                        () -> ok(catalog.get("/api/chunks?state=faulted")),
                        "JDBC select of the faulted chunks",
                        () ->
                                jdbc(
                                        db,
                                        "select * from chunk where state = 'FAULTED' order by"
                                                + " created_at, chunk_id limit 1000"));
                firstPaint(out, catalog.port());
            }
        }
    }

    /** Events of the simulated fleet, pool by pool, in the order a device service writes them. */
    private static void fleet(String run, int pools, int hosts, Consumer<CloudEvent> sink) {
        int chunk = 0;
        for (int p = 0; p < pools; p++) {
            String pool = "bp-" + run + "-" + p;
            String host = "bh-" + run + "-" + (p % hosts);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < CHUNKS_PER_POOL; i++) {
                String id = "bc-" + run + "-" + chunk++;
                ids.add(id);
                sink.accept(
                        CloudEvent.of(
                                new ChunkCreated(
                                        id,
                                        pool,
                                        host,
                                        "/var/szpool/chunks/" + id,
                                        1L << 30,
                                        true,
                                        Cipher.AES_XTS_PLAIN64,
                                        pool + "/" + id,
                                        Driver.EMBEDDED),
                                host,
                                "crypto-device-service"));
            }
            for (String id : ids) {
                sink.accept(
                        CloudEvent.of(
                                new ChunkAttached(id, pool, host, "nbd://127.0.0.1:10810/" + id),
                                host,
                                "crypto-device-service"));
                if (chunk % FAULTED_EVERY == 0) {
                    sink.accept(
                            CloudEvent.of(
                                    new ChunkFailed(id, pool, host, null, "I/O error"),
                                    host,
                                    "crypto-device-service"));
                }
            }
        }
    }

    private static double peer(String url, Postgres pg, String run, int pools, int hosts)
            throws Exception {
        try (Connection db =
                DriverManager.getConnection(
                        url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true",
                        pg.user(),
                        pg.password())) {
            try (Statement s = db.createStatement()) {
                s.execute("create schema peer");
                // The catalog's tables as Flyway makes them (V1 + V2), indexes included.
                s.execute(
                        "create table peer.chunk (chunk_id varchar(64) primary key, pool_id"
                                + " varchar(128) not null, host_id varchar(128) not null, path"
                                + " text, size_bytes bigint, sparse boolean, cipher varchar(32),"
                                + " key_id varchar(256), driver varchar(16), state varchar(16) not"
                                + " null, device_address text, created_at timestamptz not null,"
                                + " updated_at timestamptz not null, device_state varchar(16),"
                                + " in_pool boolean not null default false, owner_rank smallint"
                                + " not null default 3, last_synced_generation bigint,"
                                + " last_synced_at timestamptz)");
                s.execute("create index on peer.chunk (pool_id)");
                s.execute("create index on peer.chunk (host_id)");
                s.execute("create index on peer.chunk (state)");
                s.execute(
                        "create index on peer.chunk (last_synced_at nulls first) where state <>"
                                + " 'DESTROYED'");
                s.execute(
                        "create table peer.pool (pool_id varchar(128) primary key, host_id"
                                + " varchar(128), owner_rank smallint not null, first_seen"
                                + " timestamptz not null, updated_at timestamptz not null)");
                s.execute(
                        "create table peer.event_log (seq bigserial primary key, event_id"
                                + " varchar(128) not null unique, type varchar(128) not null, topic"
                                + " varchar(64) not null, pool_id varchar(128), host_id"
                                + " varchar(128), source text not null, event_time timestamptz,"
                                + " payload jsonb not null, cataloged_at timestamptz not null)");
                s.execute("create index on peer.event_log (pool_id, seq)");
                s.execute("create index on peer.event_log (type, seq)");
                s.execute(
                        "create table peer.processed_event (event_id varchar(128) primary key,"
                                + " type varchar(128) not null, source text not null, pool_id"
                                + " varchar(128), processed_at timestamptz not null)");
            }
            db.setAutoCommit(false);
            long t0 = System.nanoTime();
            try (PreparedStatement chunk =
                            db.prepareStatement(
                                    "insert into peer.chunk (chunk_id, pool_id, host_id, path,"
                                            + " size_bytes, sparse, cipher, key_id, driver, state,"
                                            + " device_address, created_at, updated_at,"
                                            + " device_state) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                            + " ?, ?, ?, ?)");
                    PreparedStatement state =
                            db.prepareStatement(
                                    "update peer.chunk set state = ?, device_state = ?,"
                                            + " device_address = coalesce(?, device_address),"
                                            + " updated_at = ? where chunk_id = ?");
                    PreparedStatement pool =
                            db.prepareStatement(
                                    "insert into peer.pool (pool_id, host_id, owner_rank,"
                                            + " first_seen, updated_at) values (?, ?, 2, ?, ?) on"
                                            + " conflict do nothing");
                    PreparedStatement log =
                            db.prepareStatement(
                                    "insert into peer.event_log (event_id, type, topic, pool_id,"
                                            + " host_id, source, event_time, payload,"
                                            + " cataloged_at) values (?, ?, ?, ?, ?, ?, ?,"
                                            + " cast(? as jsonb), ?)");
                    PreparedStatement processed =
                            db.prepareStatement(
                                    "insert into peer.processed_event (event_id, type, source,"
                                            + " pool_id, processed_at) values (?, ?, ?, ?, ?)")) {
                int[] n = {0};
                fleet(
                        run,
                        pools,
                        hosts,
                        e -> {
                            try {
                                Timestamp now = Timestamp.from(Instant.now());
                                Timestamp at = Timestamp.from(e.time());
                                String host = e.source().toString().split("/")[2];
                                pool.setString(1, e.data().poolId());
                                pool.setString(2, host);
                                pool.setTimestamp(3, at);
                                pool.setTimestamp(4, at);
                                pool.addBatch();
                                if (e.data() instanceof ChunkCreated c) {
                                    created(chunk, c, at);
                                } else if (e.data() instanceof ChunkAttached a) {
                                    state(state, a.chunkId(), "ATTACHED", a.deviceAddress(), at);
                                } else if (e.data() instanceof ChunkFailed f) {
                                    state(state, f.chunkId(), "FAULTED", null, at);
                                }
                                log.setString(1, e.id());
                                log.setString(2, e.type());
                                log.setString(3, e.topic());
                                log.setString(4, e.data().poolId());
                                log.setString(5, host);
                                log.setString(6, e.source().toString());
                                log.setTimestamp(7, at);
                                log.setString(8, EventCodec.toJson(e.data()));
                                log.setTimestamp(9, now);
                                log.addBatch();
                                processed.setString(1, e.id());
                                processed.setString(2, e.type());
                                processed.setString(3, e.source().toString());
                                processed.setString(4, e.data().poolId());
                                processed.setTimestamp(5, now);
                                processed.addBatch();
                                if (++n[0] % 10_000 == 0) {
                                    flush(db, chunk, state, pool, log, processed);
                                }
                            } catch (Exception x) {
                                throw new IllegalStateException(x);
                            }
                        });
                flush(db, chunk, state, pool, log, processed);
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private static void created(PreparedStatement s, ChunkCreated c, Timestamp at)
            throws Exception {
        s.setString(1, c.chunkId());
        s.setString(2, c.poolId());
        s.setString(3, c.hostId());
        s.setString(4, c.path());
        s.setLong(5, c.sizeBytes());
        s.setBoolean(6, c.sparse());
        s.setString(7, EventCodec.wireName(c.cipher()));
        s.setString(8, c.keyId());
        s.setString(9, EventCodec.wireName(c.driver()));
        s.setString(10, "PROVISIONED");
        s.setString(11, null);
        s.setTimestamp(12, at);
        s.setTimestamp(13, at);
        s.setString(14, "PROVISIONED");
        s.addBatch();
    }

    private static void state(
            PreparedStatement s, String chunkId, String state, String address, Timestamp at)
            throws Exception {
        s.setString(1, state);
        s.setString(2, state);
        s.setString(3, address);
        s.setTimestamp(4, at);
        s.setString(5, chunkId);
        s.addBatch();
    }

    private static void flush(Connection db, PreparedStatement... statements) throws Exception {
        // Inserted chunk rows first, so that the state updates of the same batch find them.
        for (PreparedStatement s : statements) {
            s.executeBatch();
        }
        db.commit();
    }

    /** The catalog's events of this run so far: the log's sequence, cheap to read at any size. */
    private static long cataloged(Connection db, String run) throws Exception {
        try (Statement s = db.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "select case when is_called then last_value else 0 end from"
                                        + " event_log_seq_seq")) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (java.sql.SQLException beforeMigration) {
            return 0;
        }
    }

    interface Call {
        void run() throws Exception;
    }

    private static void latency(
            PrintStream out, String name, int n, Call api, String peerName, Call peer)
            throws Exception {
        double[] a = times(n, api);
        double[] p = times(n, peer);
        out.printf(
                Locale.ROOT,
                "%s: p50 %.1f ms, p99 %.1f ms over %d requests; %s: p50 %.1f ms, p99 %.1f ms"
                        + " (p50 ratio %.1fx)%n",
                name,
                a[0],
                a[1],
                n,
                peerName,
                p[0],
                p[1],
                a[0] / p[0]);
    }

    private static double[] times(int n, Call call) throws Exception {
        for (int i = 0; i < Math.min(20, n); i++) {
            call.run();
        }
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            call.run();
            ms.add((System.nanoTime() - t) / 1e6);
        }
        Collections.sort(ms);
        return new double[] {ms.get(n / 2), ms.get(Math.min(n - 1, (int) Math.ceil(n * 0.99) - 1))};
    }

    private static void ok(HttpResponse<String> response) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException(response.statusCode() + ": " + response.body());
        }
    }

    private static void jdbc(Connection db, String sql) throws Exception {
        try (Statement s = db.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rs.getString(1);
            }
        }
    }

    /** The dashboard's first paint and first full render in Chromium, median of five loads. */
    private static void firstPaint(PrintStream out, int port) throws Exception {
        if (!Chromium.available()) {
            out.println("dashboard first paint: skipped, " + Chromium.BINARY + " is not installed");
            return;
        }
        List<Double> paint = new ArrayList<>();
        List<Double> render = new ArrayList<>();
        try (Chromium browser = Chromium.start(1400, 1000)) {
            for (int i = 0; i < 5; i++) {
                browser.navigate("http://127.0.0.1:" + port + "/?load=" + i);
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (!browser.evalTrue(
                        "typeof window.szpoolFirstRender === 'number' && location.search === '?load="
                                + i
                                + "'")) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the dashboard did not render");
                    }
                    Thread.sleep(50);
                }
                paint.add(
                        browser.eval(
                                        "performance.getEntriesByName('first-contentful-paint')[0]"
                                                + ".startTime")
                                .asDouble());
                render.add(browser.eval("window.szpoolFirstRender").asDouble());
            }
        }
        Collections.sort(paint);
        Collections.sort(render);
        out.printf(
                Locale.ROOT,
                "dashboard in Chromium: first contentful paint %.0f ms, fleet rendered (hosts,"
                        + " pools, chunks) %.0f ms (median of 5 loads)%n",
                paint.get(2),
                render.get(2));
    }
}
