package io.szpool.catalog;

import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.EventCodec;
import io.szpool.events.PoolEvent.PoolCreated;
import io.szpool.events.SyncEvent.ChunkSynced;
import io.szpool.events.SyncEvent.SyncCompleted;
import io.szpool.events.SyncEvent.SyncStarted;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import io.szpool.events.Vocabulary.Layout;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.Postgres;
import io.szpool.testing.ServiceProcess;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
 * simulated fleet's events go onto the real topics first (device, pool and sync events, as the
 * three services write them), then the packaged catalog-service starts and consumes them; the
 * driver prints its ingest rate next to a named peer, plain batched JDBC writing the same rows into
 * the same schema of the same PostgreSQL, and the latency of the API's queries next to the same SQL
 * over JDBC, and the dashboard's first paint in Chromium. It asserts nothing about time: the
 * figures are for people.
 */
class CatalogBenchIT {
    static final int CHUNKS_PER_POOL = 100;
    static final int VDEV_WIDTH = 10;
    static final int POOLS_PER_HOST = 10;
    static final int FAULTED_EVERY = 1000;
    static final String TARGET = "rsync://backup.example/szpool/fleet";

    @Test
    void bench() throws Exception {
        String pools = System.getProperty("szpool.bench.pools");
        Assumptions.assumeTrue(
                pools != null, "a benchmark: run catalog-service/bench/run (szpool.bench.pools)");
        int queries = Integer.getInteger("szpool.bench.queries", 200);
        Path report = Path.of("target", "bench.txt");
        try (PrintStream out = new PrintStream(Files.newOutputStream(report), true)) {
            run(out, Math.max(1, Integer.parseInt(pools)), queries);
        }
        System.out.println(Files.readString(report));
    }

    private void run(PrintStream out, int pools, int queries) throws Exception {
        String bootstrap = KafkaBroker.shared().bootstrapServers();
        Postgres pg = Postgres.shared();
        String url = NewDatabase.create(pg, "catalog_bench");
        String run = UUID.randomUUID().toString().substring(0, 6);
        int hosts = Math.max(1, pools / POOLS_PER_HOST);
        out.printf(
                Locale.ROOT,
                "load average at start: %s%n",
                Files.readString(Path.of("/proc/loadavg")).trim());

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
                                256 * 1024,
                                ProducerConfig.COMPRESSION_TYPE_CONFIG,
                                "lz4"))) {
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
                "fleet: %d hosts, %d pools of %d chunks (raidz2 vdevs of %d), %d chunks, %d events:"
                        + " ChunkCreated, ChunkAttached (1 in %d chunks ChunkFailed) on"
                        + " szpool.device-events, PoolCreated on szpool.pool-events, SyncStarted,"
                        + " ChunkSynced, SyncCompleted on szpool.sync-events%n",
                hosts,
                pools,
                CHUNKS_PER_POOL,
                VDEV_WIDTH,
                (long) pools * CHUNKS_PER_POOL,
                total,
                FAULTED_EVERY);
        out.printf(
                Locale.ROOT,
                "produce: %.1f s (%.0f events/s)%n",
                produceSeconds,
                total / produceSeconds);

        Map<String, String> config = catalogConfig(bootstrap, url, pg, "bench-" + run);
        double ingest;
        try (Connection db = DriverManager.getConnection(url, pg.user(), pg.password())) {
            long start = System.nanoTime();
            // The catalog's JVM options (bench/run: CATALOG_JVM), printed with the figures.
            List<String> jvm =
                    List.of(System.getProperty("szpool.bench.jvm", "-Xmx1g").trim().split("\\s+"));
            out.println("catalog JVM options: " + String.join(" ", jvm));
            try (ServiceProcess catalog =
                    ServiceProcess.start("catalog-service", "catalog-bench", config, jvm)) {
                long ready = System.nanoTime();
                long last = 0;
                long lastChange = System.nanoTime();
                while (true) {
                    long done = cataloged(db);
                    // The highest number committed can reach the total while another consumer's
                    // batch, numbered before it, has yet to commit: then count the rows.
                    if (done >= total && logged(db) >= total) {
                        break;
                    }
                    if (done != last) {
                        last = done;
                        lastChange = System.nanoTime();
                    } else if (System.nanoTime() - lastChange > 120e9) {
                        throw new IllegalStateException(
                                "ingest stalled at " + done + " of " + total);
                    }
                    Thread.sleep(200);
                }
                ingest = (System.nanoTime() - ready) / 1e9;
                out.printf(
                        Locale.ROOT,
                        "catalog ingest (from ready to the last event cataloged; startup %.1f s"
                                + " not counted): %.1f s, %.0f events/s; load average now %s%n",
                        (ready - start) / 1e9,
                        ingest,
                        total / ingest,
                        Files.readString(Path.of("/proc/loadavg")).trim());
                out.println("catalog rows: " + rows(db, run));
                out.println("EXPLAIN of the API's queries at this size:");
                explain(
                        out,
                        db,
                        "select * from chunk where pool_id = 'bp-"
                                + run
                                + "-1' order by created_at, chunk_id");
                explain(
                        out,
                        db,
                        "select * from chunk where state = 'FAULTED' order by created_at, chunk_id"
                                + " limit 1000");
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
                                                + "' order by created_at, chunk_id"));
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
                firstPaint(out, catalog.port(), Math.max(5, queries / 10));
            }
        }

        // The peer after the catalog, on a quieter database: the same rows, written by plain
        // batched JDBC, one statement per event and row as a straightforward consumer would.
        // At fleet size the peer alone may take longer than the catalog; PEER_POOLS runs it over
        // the first pools only (its rate, events/s, barely depends on the size).
        int peerPools = Math.min(pools, Integer.getInteger("szpool.bench.peerPools", pools));
        long[] peerEvents = {0};
        fleet(run, peerPools, hosts, e -> peerEvents[0]++);
        double peerSeconds = peer(url, pg, run, peerPools, hosts);
        out.printf(
                Locale.ROOT,
                "peer (plain batched JDBC: the same events' rows, one statement per event and row,"
                        + " 10,000 events per batch and commit, same schema, same PostgreSQL, no"
                        + " Kafka), %d pools, %d events: %.1f s, %.0f events/s%n",
                peerPools,
                peerEvents[0],
                peerSeconds,
                peerEvents[0] / peerSeconds);
        out.printf(
                Locale.ROOT,
                "catalog ingest / peer (events/s): %.2fx%n",
                (total / ingest) / (peerEvents[0] / peerSeconds));
    }

    /**
     * Events of the simulated fleet, pool by pool, each topic's in the order its service writes
     * them: the device service makes and attaches the chunks, pool-service creates the pool on
     * them, sync-service backs them up once.
     */
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
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                sink.accept(
                        CloudEvent.of(
                                new ChunkAttached(id, pool, host, "nbd://127.0.0.1:10810/" + id),
                                host,
                                "crypto-device-service"));
                if ((chunk - ids.size() + i) % FAULTED_EVERY == 0) {
                    sink.accept(
                            CloudEvent.of(
                                    new ChunkFailed(id, pool, host, null, "I/O error"),
                                    host,
                                    "crypto-device-service"));
                }
            }
            List<List<String>> vdevs = new ArrayList<>();
            for (int v = 0; v < ids.size(); v += VDEV_WIDTH) {
                vdevs.add(ids.subList(v, Math.min(ids.size(), v + VDEV_WIDTH)));
            }
            long size = (long) vdevs.size() * (VDEV_WIDTH - 2) << 30;
            sink.accept(
                    CloudEvent.of(
                            new PoolCreated(
                                    pool,
                                    host,
                                    "tank" + p,
                                    Layout.RAIDZ2,
                                    VDEV_WIDTH,
                                    vdevs,
                                    1L << 30,
                                    size),
                            host,
                            "pool-service"));
            sink.accept(
                    CloudEvent.of(new SyncStarted(pool, host, 1, TARGET), host, "sync-service"));
            for (String id : ids) {
                sink.accept(
                        CloudEvent.of(
                                new ChunkSynced(
                                        id, pool, host, 1, TARGET, 1L << 20, "sha256:" + id, 12),
                                host,
                                "sync-service"));
            }
            sink.accept(
                    CloudEvent.of(
                            new SyncCompleted(
                                    pool,
                                    host,
                                    1,
                                    TARGET,
                                    ids.size(),
                                    (long) ids.size() << 20,
                                    1500),
                            host,
                            "sync-service"));
        }
    }

    /**
     * The named peer: the same events' rows written by plain batched JDBC into a copy of the
     * catalog's schema (the Flyway migrations run into schema {@code peer}) of the same database.
     * One statement per event and row, as a straightforward consumer would write them (no reads, no
     * locks, no idempotency check: the events come in one order, without duplicates), sent 10,000
     * events per JDBC batch and commit.
     */
    private static double peer(String url, Postgres pg, String run, int pools, int hosts)
            throws Exception {
        try (Connection db =
                DriverManager.getConnection(
                        url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true",
                        pg.user(),
                        pg.password())) {
            try (Statement s = db.createStatement()) {
                s.execute("create schema peer");
                s.execute("set search_path to peer");
                for (String migration :
                        List.of(
                                "V1__chunks.sql",
                                "V2__fleet_catalog.sql",
                                "V3__bulk_ingest.sql",
                                "V4__event_log_payload_json.sql")) {
                    try (var in =
                            CatalogBenchIT.class.getResourceAsStream(
                                    "/db/migration/" + migration)) {
                        s.execute(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    }
                }
            }
            db.setAutoCommit(false);
            long t0 = System.nanoTime();
            try (PeerStatements peer = new PeerStatements(db)) {
                int[] n = {0};
                fleet(
                        run,
                        pools,
                        hosts,
                        e -> {
                            try {
                                peer.add(e);
                                if (++n[0] % 10_000 == 0) {
                                    peer.flush();
                                }
                            } catch (Exception x) {
                                throw new IllegalStateException(x);
                            }
                        });
                peer.flush();
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /**
     * The rows of the log: exact, but a scan of the whole log, so only once the numbers say done.
     */
    private static long logged(Connection db) throws Exception {
        try (Statement s = db.createStatement();
                ResultSet rs = s.executeQuery("select count(*) from event_log")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /**
     * The catalog's events so far: the highest committed log number, cheap at any size (an index's
     * last entry). A number is taken before its batch commits, so the sequence itself would run
     * ahead of the rows.
     */
    private static long cataloged(Connection db) throws Exception {
        try (Statement s = db.createStatement();
                ResultSet rs = s.executeQuery("select coalesce(max(seq), 0) from event_log")) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (java.sql.SQLException beforeMigration) {
            return 0;
        }
    }

    /** What the catalog holds after the run, so the figures are about a complete catalog. */
    private static String rows(Connection db, String run) throws Exception {
        try (Statement s = db.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "select (select count(*) from event_log), (select count(*) from"
                                        + " chunk), (select count(*) from chunk where state ="
                                        + " 'IN_POOL' and last_synced_generation = 1), (select"
                                        + " count(*) from chunk where state = 'FAULTED'), (select"
                                        + " count(*) from pool where state = 'active'), (select"
                                        + " count(*) from vdev_chunk), (select count(*) from host),"
                                        + " (select count(*) from sync_generation where state ="
                                        + " 'completed' and chunks_synced = "
                                        + CHUNKS_PER_POOL
                                        + ")")) {
            rs.next();
            return String.format(
                    Locale.ROOT,
                    "%d events logged, %d chunks (%d in-pool and synced, %d faulted), %d active"
                            + " pools, %d vdev members, %d hosts, %d complete generations",
                    rs.getLong(1),
                    rs.getLong(2),
                    rs.getLong(3),
                    rs.getLong(4),
                    rs.getLong(5),
                    rs.getLong(6),
                    rs.getLong(7),
                    rs.getLong(8));
        }
    }

    private static void explain(PrintStream out, Connection db, String sql) throws Exception {
        try (Statement s = db.createStatement()) {
            s.execute("analyze chunk");
            try (ResultSet rs = s.executeQuery("explain (analyze, buffers off) " + sql)) {
                out.println("  " + sql);
                while (rs.next()) {
                    out.println("    " + rs.getString(1));
                }
            }
        }
    }

    /**
     * The peer's statements, one JDBC batch each, flushed in dependency order. The host upserts say
     * {@code select} instead of {@code values}, so that the driver's batch rewriting (one multi-row
     * insert per batch) leaves them alone: a multi-row upsert cannot name one host twice.
     */
    private static final class PeerStatements implements AutoCloseable {
        private final Connection db;
        private final PreparedStatement host;
        private final PreparedStatement service;
        private final PreparedStatement pool;
        private final PreparedStatement chunk;
        private final PreparedStatement state;
        private final PreparedStatement vdev;
        private final PreparedStatement member;
        private final PreparedStatement inPool;
        private final PreparedStatement generation;
        private final PreparedStatement synced;
        private final PreparedStatement counted;
        private final PreparedStatement completed;
        private final PreparedStatement log;

        PeerStatements(Connection db) throws Exception {
            this.db = db;
            host =
                    db.prepareStatement(
                            "insert into host (host_id, first_seen, last_seen) select ?, ?, ? on"
                                    + " conflict (host_id) do update set last_seen ="
                                    + " excluded.last_seen");
            service =
                    db.prepareStatement(
                            "insert into host_service (host_id, service, first_seen, last_seen)"
                                    + " select ?, ?, ?, ? on conflict (host_id, service) do"
                                    + " update set last_seen = excluded.last_seen");
            pool =
                    db.prepareStatement(
                            "insert into pool (pool_id, name, host_id, owner_rank, layout, width,"
                                    + " chunk_size_bytes, size_bytes, health, state, created_at,"
                                    + " first_seen, updated_at) values (?, ?, ?, 3, 'raidz2', ?,"
                                    + " ?, ?, 'ONLINE', 'active', ?, ?, ?) on conflict (pool_id)"
                                    + " do update set name = excluded.name, layout ="
                                    + " excluded.layout, width = excluded.width, chunk_size_bytes"
                                    + " = excluded.chunk_size_bytes, size_bytes ="
                                    + " excluded.size_bytes, health = excluded.health, state ="
                                    + " excluded.state, created_at = excluded.created_at,"
                                    + " updated_at = excluded.updated_at");
            chunk =
                    db.prepareStatement(
                            "insert into chunk (chunk_id, pool_id, host_id, path, size_bytes,"
                                    + " sparse, cipher, key_id, driver, state, device_state,"
                                    + " created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                    + " 'PROVISIONED', 'PROVISIONED', ?, ?)");
            state =
                    db.prepareStatement(
                            "update chunk set state = ?, device_state = ?, device_address ="
                                    + " coalesce(?, device_address), updated_at = ? where chunk_id"
                                    + " = ?");
            vdev =
                    db.prepareStatement(
                            "insert into vdev (pool_id, vdev_index, layout, added_at) values (?,"
                                    + " ?, 'raidz2', ?)");
            member =
                    db.prepareStatement(
                            "insert into vdev_chunk (pool_id, vdev_index, position, chunk_id)"
                                    + " values (?, ?, ?, ?)");
            inPool =
                    db.prepareStatement(
                            "update chunk set in_pool = true, state = case when device_state ="
                                    + " 'FAULTED' then state else 'IN_POOL' end, updated_at = ?"
                                    + " where chunk_id = ?");
            generation =
                    db.prepareStatement(
                            "insert into sync_generation (pool_id, target, generation, host_id,"
                                    + " state, started_at) values (?, ?, ?, ?, 'running', ?)");
            synced =
                    db.prepareStatement(
                            "update chunk set last_synced_generation = ?, last_synced_at = ?"
                                    + " where chunk_id = ?");
            counted =
                    db.prepareStatement(
                            "update sync_generation set chunks_synced = chunks_synced + 1,"
                                    + " bytes_synced = bytes_synced + ? where pool_id = ? and"
                                    + " target = ? and generation = ?");
            completed =
                    db.prepareStatement(
                            "update sync_generation set state = 'completed', finished_at = ?,"
                                    + " chunks = ?, bytes_transferred = ?, duration_ms = ? where"
                                    + " pool_id = ? and target = ? and generation = ?");
            log =
                    db.prepareStatement(
                            "insert into event_log (event_id, type, topic, pool_id, host_id,"
                                    + " source, event_time, payload, cataloged_at) values (?, ?,"
                                    + " ?, ?, ?, ?, ?, cast(? as jsonb), ?)");
        }

        void add(CloudEvent e) throws Exception {
            Timestamp now = Timestamp.from(Instant.now());
            Timestamp at = Timestamp.from(e.time());
            String[] hs = e.source().toString().split("/");
            host.setString(1, hs[2]);
            host.setTimestamp(2, at);
            host.setTimestamp(3, at);
            host.addBatch();
            service.setString(1, hs[2]);
            service.setString(2, hs[3]);
            service.setTimestamp(3, at);
            service.setTimestamp(4, at);
            service.addBatch();
            if (e.data() instanceof ChunkCreated c) {
                chunk.setString(1, c.chunkId());
                chunk.setString(2, c.poolId());
                chunk.setString(3, c.hostId());
                chunk.setString(4, c.path());
                chunk.setLong(5, c.sizeBytes());
                chunk.setBoolean(6, c.sparse());
                chunk.setString(7, EventCodec.wireName(c.cipher()));
                chunk.setString(8, c.keyId());
                chunk.setString(9, EventCodec.wireName(c.driver()));
                chunk.setTimestamp(10, at);
                chunk.setTimestamp(11, at);
                chunk.addBatch();
            } else if (e.data() instanceof ChunkAttached a) {
                state(a.chunkId(), "ATTACHED", a.deviceAddress(), at);
            } else if (e.data() instanceof ChunkFailed f) {
                state(f.chunkId(), "FAULTED", null, at);
            } else if (e.data() instanceof PoolCreated p) {
                pool.setString(1, p.poolId());
                pool.setString(2, p.name());
                pool.setString(3, p.hostId());
                pool.setInt(4, p.width());
                pool.setLong(5, p.chunkSizeBytes());
                pool.setLong(6, p.sizeBytes());
                pool.setTimestamp(7, at);
                pool.setTimestamp(8, at);
                pool.setTimestamp(9, at);
                pool.addBatch();
                for (int v = 0; v < p.vdevs().size(); v++) {
                    vdev.setString(1, p.poolId());
                    vdev.setInt(2, v);
                    vdev.setTimestamp(3, at);
                    vdev.addBatch();
                    for (int i = 0; i < p.vdevs().get(v).size(); i++) {
                        member.setString(1, p.poolId());
                        member.setInt(2, v);
                        member.setInt(3, i);
                        member.setString(4, p.vdevs().get(v).get(i));
                        member.addBatch();
                        inPool.setTimestamp(1, at);
                        inPool.setString(2, p.vdevs().get(v).get(i));
                        inPool.addBatch();
                    }
                }
            } else if (e.data() instanceof SyncStarted g) {
                generation.setString(1, g.poolId());
                generation.setString(2, g.target());
                generation.setLong(3, g.generation());
                generation.setString(4, g.hostId());
                generation.setTimestamp(5, at);
                generation.addBatch();
            } else if (e.data() instanceof ChunkSynced c) {
                synced.setLong(1, c.generation());
                synced.setTimestamp(2, at);
                synced.setString(3, c.chunkId());
                synced.addBatch();
                counted.setLong(1, c.bytesTransferred());
                counted.setString(2, c.poolId());
                counted.setString(3, c.target());
                counted.setLong(4, c.generation());
                counted.addBatch();
            } else if (e.data() instanceof SyncCompleted c) {
                completed.setTimestamp(1, at);
                completed.setInt(2, c.chunks());
                completed.setLong(3, c.bytesTransferred());
                completed.setLong(4, c.durationMs());
                completed.setString(5, c.poolId());
                completed.setString(6, c.target());
                completed.setLong(7, c.generation());
                completed.addBatch();
            }
            log.setString(1, e.id());
            log.setString(2, e.type());
            log.setString(3, e.topic());
            log.setString(4, e.data().poolId());
            log.setString(5, hs[2]);
            log.setString(6, e.source().toString());
            log.setTimestamp(7, at);
            log.setString(8, EventCodec.toJson(e.data()));
            log.setTimestamp(9, now);
            log.addBatch();
        }

        private void state(String chunkId, String to, String address, Timestamp at)
                throws Exception {
            state.setString(1, to);
            state.setString(2, to);
            state.setString(3, address);
            state.setTimestamp(4, at);
            state.setString(5, chunkId);
            state.addBatch();
        }

        /**
         * Sends the batches and commits. Rows before the updates that need them: a pool is inserted
         * after its chunks, its vdevs before the chunks are marked in-pool.
         */
        void flush() throws Exception {
            for (PreparedStatement s : inOrder()) {
                s.executeBatch();
            }
            db.commit();
        }

        private List<PreparedStatement> inOrder() {
            return List.of(
                    host,
                    service,
                    chunk,
                    state,
                    pool,
                    vdev,
                    member,
                    inPool,
                    generation,
                    synced,
                    counted,
                    completed,
                    log);
        }

        @Override
        public void close() throws Exception {
            for (PreparedStatement s : inOrder()) {
                s.close();
            }
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
        // As many calls again first: the catalog's JVM has just started, and its request path
        // is still being compiled after 20 calls; a catalog serves for weeks.
        for (int i = 0; i < n; i++) {
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

    /** The packaged catalog's properties: this broker, this database, its own consumer group. */
    static Map<String, String> catalogConfig(
            String bootstrap, String url, Postgres pg, String group) {
        return Map.of(
                "kafka.bootstrap.servers",
                bootstrap,
                "quarkus.datasource.jdbc.url",
                url,
                "quarkus.datasource.username",
                pg.user(),
                "quarkus.datasource.password",
                pg.password(),
                "mp.messaging.incoming.fleet-events.group.id",
                group,
                "mp.messaging.incoming.commands.group.id",
                group);
    }

    /**
     * The dashboard's first paint and first full render in Chromium, p50 and p99 of loads, next to
     * the same files from a static server (DashboardPaint).
     */
    private static void firstPaint(PrintStream out, int port, int loads) throws Exception {
        DashboardPaint.measure(out, port, loads);
    }
}
