package io.szpool.catalog.ingest;

import io.szpool.catalog.chunk.Chunk;
import io.szpool.catalog.chunk.ChunkState;
import io.szpool.catalog.pool.GrowthRow;
import io.szpool.catalog.pool.Pool;
import io.szpool.catalog.pool.VdevRow;
import io.szpool.catalog.sync.GenerationRow;
import io.szpool.catalog.sync.RestoreRow;
import io.szpool.events.CloudEvent;
import io.szpool.events.DeviceEvent;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.PoolEvent;
import io.szpool.events.PoolEvent.PoolCreated;
import io.szpool.events.PoolEvent.PoolDestroyed;
import io.szpool.events.PoolEvent.PoolGrown;
import io.szpool.events.PoolEvent.PoolImported;
import io.szpool.events.SyncEvent;
import io.szpool.events.SyncEvent.ChunkSynced;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.util.PSQLException;

/**
 * The catalog's write path in SQL: a batch's pool locks, which of its events were applied before,
 * the rows its events touch (one query per table), and those rows written back (one statement per
 * table, {@code insert ... on conflict do update} from unnest arrays or, for large batches, a
 * staging table; new rows by binary COPY). Plain JDBC on the transaction's connection, because
 * Hibernate would send one statement per row: a row's final values are computed in memory under the
 * batch's pool locks, so each table's write is one multi-row upsert that overwrites them.
 */
public final class RowStore {
    private final Connection db;

    public RowStore(Connection db) {
        this.db = db;
    }

    /**
     * Takes the transaction's lock of every pool, in one global order (the sorted hashes; OFFSET 0
     * keeps the sort below the locking), so two batches never wait for each other in a circle. The
     * four topics are consumed concurrently and their events of one pool touch the same rows.
     */
    public void lock(Collection<String> poolIds) throws SQLException {
        try (PreparedStatement s =
                db.prepareStatement(
                        "select count(pg_advisory_xact_lock(h)) from (select distinct hashtext(p) h"
                                + " from unnest(?::text[]) p order by h offset 0) locks")) {
            s.setArray(1, text(new TreeSet<>(poolIds)));
            s.executeQuery().close();
        }
    }

    /** The ids among these that the catalog has applied before: the event log is the record. */
    public Set<String> applied(Collection<String> eventIds) throws SQLException {
        Set<String> applied = new HashSet<>();
        try (PreparedStatement s =
                db.prepareStatement("select event_id from event_log where event_id = any(?)")) {
            s.setArray(1, text(eventIds));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    applied.add(rs.getString(1));
                }
            }
        }
        return applied;
    }

    /** The rows of the catalog that these events may change, by key, in one query per table. */
    public BatchRows load(List<CloudEvent> events) throws SQLException {
        BatchRows rows = new BatchRows();
        Set<String> chunkIds = new HashSet<>();
        Set<String> poolIds = new HashSet<>();
        Set<String> destroyed = new HashSet<>();
        Set<GenerationRow.Key> generations = new HashSet<>();
        Set<RestoreRow.Key> restores = new HashSet<>();
        for (CloudEvent event : events) {
            if (event.data() instanceof DeviceEvent device) {
                poolIds.add(device.poolId());
                String chunkId = chunkIdOf(device);
                if (chunkId != null) {
                    chunkIds.add(chunkId);
                }
            } else if (event.data() instanceof PoolEvent pool) {
                poolIds.add(pool.poolId());
                if (pool instanceof PoolCreated c) {
                    c.vdevs().forEach(chunkIds::addAll);
                } else if (pool instanceof PoolGrown g) {
                    chunkIds.addAll(g.chunkIds());
                } else if (pool instanceof PoolImported i) {
                    chunkIds.addAll(i.chunkIds());
                } else if (pool instanceof PoolDestroyed d) {
                    destroyed.add(d.poolId());
                }
            } else if (event.data() instanceof SyncEvent sync) {
                poolIds.add(sync.poolId());
                if (sync instanceof ChunkSynced c) {
                    chunkIds.add(c.chunkId());
                }
                GenerationRow.Key generation = generationKey(sync);
                if (generation != null) {
                    generations.add(generation);
                }
                RestoreRow.Key restore = restoreKey(sync);
                if (restore != null) {
                    restores.add(restore);
                }
            }
            // Commands go to the audit trail only.
        }
        if (!destroyed.isEmpty()) {
            loadVdevChunks(rows, destroyed);
            rows.storedVdevChunks.values().forEach(v -> v.values().forEach(chunkIds::addAll));
        }
        loadChunks(rows, chunkIds);
        loadPools(rows, poolIds);
        loadGenerations(rows, generations);
        loadRestores(rows, restores);
        return rows;
    }

    private static String chunkIdOf(DeviceEvent device) {
        if (device instanceof DeviceEvent.ChunkCreated c) {
            return c.chunkId();
        } else if (device instanceof DeviceEvent.ChunkAttached a) {
            return a.chunkId();
        } else if (device instanceof DeviceEvent.ChunkDetached d) {
            return d.chunkId();
        } else if (device instanceof DeviceEvent.ChunkDestroyed d) {
            return d.chunkId();
        } else if (device instanceof ChunkFailed f) {
            return f.chunkId();
        }
        return null;
    }

    private static GenerationRow.Key generationKey(SyncEvent sync) {
        if (sync instanceof SyncEvent.SyncStarted s) {
            return new GenerationRow.Key(s.poolId(), s.target(), s.generation());
        } else if (sync instanceof ChunkSynced s) {
            return new GenerationRow.Key(s.poolId(), s.target(), s.generation());
        } else if (sync instanceof SyncEvent.SyncCompleted s) {
            return new GenerationRow.Key(s.poolId(), s.target(), s.generation());
        } else if (sync instanceof SyncEvent.SyncFailed s) {
            return new GenerationRow.Key(s.poolId(), s.target(), s.generation());
        }
        return null;
    }

    private static RestoreRow.Key restoreKey(SyncEvent sync) {
        if (sync instanceof SyncEvent.RestoreStarted s) {
            return new RestoreRow.Key(s.poolId(), s.hostId(), s.generation());
        } else if (sync instanceof SyncEvent.ChunkRestored s) {
            return new RestoreRow.Key(s.poolId(), s.hostId(), s.generation());
        } else if (sync instanceof SyncEvent.RestoreCompleted s) {
            return new RestoreRow.Key(s.poolId(), s.hostId(), s.generation());
        } else if (sync instanceof SyncEvent.RestoreFailed s) {
            return new RestoreRow.Key(s.poolId(), s.hostId(), s.generation());
        }
        return null;
    }

    private void loadChunks(BatchRows rows, Set<String> ids) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        try (PreparedStatement s =
                db.prepareStatement(
                        "select " + names(CHUNK) + " from chunk where chunk_id = any(?)")) {
            s.setArray(1, text(ids));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Chunk c = new Chunk();
                    c.chunkId = rs.getString(1);
                    c.poolId = rs.getString(2);
                    c.hostId = rs.getString(3);
                    c.ownerRank = rs.getInt(4);
                    c.path = rs.getString(5);
                    c.sizeBytes = (Long) rs.getObject(6);
                    c.sparse = (Boolean) rs.getObject(7);
                    c.cipher = rs.getString(8);
                    c.keyId = rs.getString(9);
                    c.driver = rs.getString(10);
                    c.state = ChunkState.valueOf(rs.getString(11));
                    String deviceState = rs.getString(12);
                    c.deviceState = deviceState == null ? null : ChunkState.valueOf(deviceState);
                    c.inPool = rs.getBoolean(13);
                    c.deviceAddress = rs.getString(14);
                    c.lastSyncedGeneration = (Long) rs.getObject(15);
                    c.lastSyncedAt = instant(rs, 16);
                    c.createdAt = instant(rs, 17);
                    c.updatedAt = instant(rs, 18);
                    rows.add(c);
                }
            }
        }
    }

    private void loadPools(BatchRows rows, Set<String> ids) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        try (PreparedStatement s =
                db.prepareStatement(
                        "select " + names(POOL) + " from pool where pool_id = any(?)")) {
            s.setArray(1, text(ids));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Pool p = new Pool();
                    p.poolId = rs.getString(1);
                    p.name = rs.getString(2);
                    p.hostId = rs.getString(3);
                    p.ownerRank = rs.getInt(4);
                    p.layout = rs.getString(5);
                    p.width = (Integer) rs.getObject(6);
                    p.chunkSizeBytes = (Long) rs.getObject(7);
                    p.sizeBytes = (Long) rs.getObject(8);
                    p.allocatedBytes = (Long) rs.getObject(9);
                    p.health = rs.getString(10);
                    p.state = rs.getString(11);
                    p.lastScrubbedAt = instant(rs, 12);
                    p.createdAt = instant(rs, 13);
                    p.firstSeen = instant(rs, 14);
                    p.updatedAt = instant(rs, 15);
                    rows.add(p);
                }
            }
        }
    }

    private void loadGenerations(BatchRows rows, Set<GenerationRow.Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        List<GenerationRow.Key> list = new ArrayList<>(keys);
        query(
                byKey("sync_generation", GENERATION, "target"),
                rs -> {
                    GenerationRow g =
                            new GenerationRow(
                                    new GenerationRow.Key(
                                            rs.getString(1), rs.getString(2), rs.getLong(3)));
                    g.hostId = rs.getString(4);
                    g.state = rs.getString(5);
                    g.startedAt = instant(rs, 6);
                    g.finishedAt = instant(rs, 7);
                    g.chunksSynced = rs.getInt(8);
                    g.bytesSynced = rs.getLong(9);
                    g.chunks = (Integer) rs.getObject(10);
                    g.bytesTransferred = (Long) rs.getObject(11);
                    g.durationMs = (Long) rs.getObject(12);
                    g.reason = rs.getString(13);
                    rows.generations.put(g.key, g);
                },
                text(list.stream().map(GenerationRow.Key::poolId).toList()),
                text(list.stream().map(GenerationRow.Key::target).toList()),
                array("int8", list, GenerationRow.Key::generation));
    }

    private void loadRestores(BatchRows rows, Set<RestoreRow.Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        List<RestoreRow.Key> list = new ArrayList<>(keys);
        query(
                byKey("restore", RESTORE, "host_id"),
                rs -> {
                    RestoreRow r =
                            new RestoreRow(
                                    new RestoreRow.Key(
                                            rs.getString(1), rs.getString(2), rs.getLong(3)));
                    r.target = rs.getString(4);
                    r.state = rs.getString(5);
                    r.startedAt = instant(rs, 6);
                    r.finishedAt = instant(rs, 7);
                    r.chunksRestored = rs.getInt(8);
                    r.chunksRepaired = rs.getInt(9);
                    r.durationMs = (Long) rs.getObject(10);
                    rows.restores.put(r.key, r);
                },
                text(list.stream().map(RestoreRow.Key::poolId).toList()),
                text(list.stream().map(RestoreRow.Key::hostId).toList()),
                array("int8", list, RestoreRow.Key::generation));
    }

    /** The rows of a table keyed (pool_id, SECOND, generation) whose keys are in three arrays. */
    private static <R> String byKey(String table, List<Column<R>> columns, String second) {
        return "select "
                + names(columns, "t.")
                + " from "
                + table
                + " t join unnest(?::text[], ?::text[], ?::int8[]) k (p, s, n) on t.pool_id = k.p"
                + " and t."
                + second
                + " = k.s and t.generation = k.n";
    }

    /** Reads one row of a result. */
    private interface RowReader {
        void read(ResultSet rs) throws SQLException;
    }

    private void query(String sql, RowReader reader, Array... arrays) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(sql)) {
            for (int i = 0; i < arrays.length; i++) {
                s.setArray(i + 1, arrays[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    reader.read(rs);
                }
            }
        }
    }

    private void loadVdevChunks(BatchRows rows, Set<String> poolIds) throws SQLException {
        try (PreparedStatement s =
                db.prepareStatement(
                        "select pool_id, vdev_index, chunk_id from vdev_chunk where pool_id ="
                                + " any(?) order by pool_id, vdev_index, position")) {
            s.setArray(1, text(poolIds));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.storedVdevChunks
                            .computeIfAbsent(rs.getString(1), p -> new HashMap<>())
                            .computeIfAbsent(rs.getInt(2), i -> new ArrayList<>())
                            .add(rs.getString(3));
                }
            }
        }
    }

    /**
     * Writes every row of the batch back except the hosts ({@link #writeHosts}), one statement per
     * table, each table's rows in key order.
     */
    public void write(BatchRows rows) throws SQLException {
        List<Pool> pools = new ArrayList<>(rows.pools.values());
        pools.sort(Comparator.comparing(p -> p.poolId));
        upsert("pool", POOL, pools, "pool_id", null);
        List<Chunk> chunks = rows.chunkRows();
        chunks.sort(Comparator.comparing(c -> c.chunkId));
        upsert("chunk", CHUNK, chunks, "chunk_id", null);
        if (!rows.vdevs.isEmpty()) {
            List<VdevRow> vdevs = new ArrayList<>(rows.vdevs.values());
            vdevs.sort(
                    Comparator.comparing((VdevRow v) -> v.poolId())
                            .thenComparing(VdevRow::vdevIndex));
            upsert("vdev", VDEV, vdevs, "pool_id, vdev_index", null);
            // A vdev's chunk list is replaced whole: the event states the vdev's columns.
            try (PreparedStatement s =
                    db.prepareStatement(
                            "delete from vdev_chunk where (pool_id, vdev_index) in (select * from"
                                    + " unnest(?::text[], ?::int4[]))")) {
                s.setArray(1, text(vdevs.stream().map(VdevRow::poolId).toList()));
                s.setArray(2, array("int4", vdevs, VdevRow::vdevIndex));
                s.executeUpdate();
            }
            List<Object[]> members = new ArrayList<>();
            for (VdevRow v : vdevs) {
                for (int position = 0; position < v.chunkIds().size(); position++) {
                    members.add(
                            new Object[] {
                                v.poolId(), v.vdevIndex(), position, v.chunkIds().get(position)
                            });
                }
            }
            upsert("vdev_chunk", VDEV_CHUNK, members, null, null);
        }
        List<GrowthRow> growth = new ArrayList<>(rows.growth.values());
        growth.sort(
                Comparator.comparing((GrowthRow g) -> g.poolId())
                        .thenComparing(GrowthRow::vdevIndex));
        upsert("pool_growth", GROWTH, growth, "pool_id, vdev_index", null);
        List<GenerationRow> generations = new ArrayList<>(rows.generations.values());
        generations.sort(
                Comparator.comparing((GenerationRow g) -> g.key.poolId())
                        .thenComparing(g -> g.key.target())
                        .thenComparing(g -> g.key.generation()));
        upsert("sync_generation", GENERATION, generations, "pool_id, target, generation", null);
        List<RestoreRow> restores = new ArrayList<>(rows.restores.values());
        restores.sort(
                Comparator.comparing((RestoreRow r) -> r.key.poolId())
                        .thenComparing(r -> r.key.hostId())
                        .thenComparing(r -> r.key.generation()));
        upsert("restore", RESTORE, restores, "pool_id, host_id, generation", null);
    }

    /**
     * Writes the batch's host and host-service rows: the last statement before the commit, because
     * they are the only rows that batches of different pools share (all of a fleet's pools on one
     * host). Written first they were held locked for the whole batch, and batches of different
     * pools, which the pool locks let run in parallel, queued behind each other on their hosts.
     * Rows go in key order, so two batches that share host rows lock them in the same order.
     */
    public void writeHosts(BatchRows rows) throws SQLException {
        upsert(
                "host",
                HOST,
                sorted(rows.hosts),
                "host_id",
                "first_seen = least(host.first_seen, excluded.first_seen), last_seen ="
                        + " greatest(host.last_seen, excluded.last_seen)");
        upsert(
                "host_service",
                SERVICE,
                sorted(rows.services),
                "host_id, service",
                "first_seen = least(host_service.first_seen, excluded.first_seen), last_seen ="
                        + " greatest(host_service.last_seen, excluded.last_seen)");
    }

    /** A statement without parameters or result, such as a savepoint. */
    public void execute(String sql) throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute(sql);
        }
    }

    /**
     * Whether a statement failed because the log already holds one of the events: the unique {@code
     * event_id} refused it (the event was applied before, or is being applied by a transaction that
     * has since committed).
     */
    public static boolean loggedBefore(SQLException e) {
        return e instanceof PSQLException p
                && "23505".equals(p.getSQLState())
                && p.getServerErrorMessage() != null
                && "event_log_event_id_key".equals(p.getServerErrorMessage().getConstraint());
    }

    /** Numbers for the batch's log entries, in the order given. */
    public long[] sequence(int n) throws SQLException {
        long[] seq = new long[n];
        try (PreparedStatement s =
                db.prepareStatement(
                        "select nextval('event_log_seq_seq') from generate_series(1, ?)")) {
            s.setInt(1, n);
            try (ResultSet rs = s.executeQuery()) {
                for (int i = 0; i < n && rs.next(); i++) {
                    seq[i] = rs.getLong(1);
                }
            }
        }
        return seq;
    }

    /** The audit trail's rows of the batch, one statement. */
    public void log(List<LogRow> entries) throws SQLException {
        upsert("event_log", LOG, entries, null, null);
    }

    /** One row of {@code event_log}. */
    public record LogRow(
            long seq,
            String eventId,
            String type,
            String topic,
            String poolId,
            String hostId,
            String source,
            Instant eventTime,
            String payload,
            Instant catalogedAt) {}

    /** A column of a table: its name, its SQL type and how a row gives its value. */
    private record Column<R>(String name, String type, Function<R, Object> value) {}

    private static <R> Column<R> col(String name, String type, Function<R, Object> value) {
        return new Column<>(name, type, value);
    }

    private static final List<Column<Chunk>> CHUNK =
            List.of(
                    col("chunk_id", "text", c -> c.chunkId),
                    col("pool_id", "text", c -> c.poolId),
                    col("host_id", "text", c -> c.hostId),
                    col("owner_rank", "int4", c -> c.ownerRank),
                    col("path", "text", c -> c.path),
                    col("size_bytes", "int8", c -> c.sizeBytes),
                    col("sparse", "bool", c -> c.sparse),
                    col("cipher", "text", c -> c.cipher),
                    col("key_id", "text", c -> c.keyId),
                    col("driver", "text", c -> c.driver),
                    col("state", "text", c -> c.state.name()),
                    col(
                            "device_state",
                            "text",
                            c -> c.deviceState == null ? null : c.deviceState.name()),
                    col("in_pool", "bool", c -> c.inPool),
                    col("device_address", "text", c -> c.deviceAddress),
                    col("last_synced_generation", "int8", c -> c.lastSyncedGeneration),
                    col("last_synced_at", "timestamptz", c -> c.lastSyncedAt),
                    col("created_at", "timestamptz", c -> c.createdAt),
                    col("updated_at", "timestamptz", c -> c.updatedAt));

    private static final List<Column<Pool>> POOL =
            List.of(
                    col("pool_id", "text", p -> p.poolId),
                    col("name", "text", p -> p.name),
                    col("host_id", "text", p -> p.hostId),
                    col("owner_rank", "int4", p -> p.ownerRank),
                    col("layout", "text", p -> p.layout),
                    col("width", "int4", p -> p.width),
                    col("chunk_size_bytes", "int8", p -> p.chunkSizeBytes),
                    col("size_bytes", "int8", p -> p.sizeBytes),
                    col("allocated_bytes", "int8", p -> p.allocatedBytes),
                    col("health", "text", p -> p.health),
                    col("state", "text", p -> p.state),
                    col("last_scrubbed_at", "timestamptz", p -> p.lastScrubbedAt),
                    col("created_at", "timestamptz", p -> p.createdAt),
                    col("first_seen", "timestamptz", p -> p.firstSeen),
                    col("updated_at", "timestamptz", p -> p.updatedAt));

    private static final List<Column<GenerationRow>> GENERATION =
            List.of(
                    col("pool_id", "text", g -> g.key.poolId()),
                    col("target", "text", g -> g.key.target()),
                    col("generation", "int8", g -> g.key.generation()),
                    col("host_id", "text", g -> g.hostId),
                    col("state", "text", g -> g.state),
                    col("started_at", "timestamptz", g -> g.startedAt),
                    col("finished_at", "timestamptz", g -> g.finishedAt),
                    col("chunks_synced", "int4", g -> g.chunksSynced),
                    col("bytes_synced", "int8", g -> g.bytesSynced),
                    col("chunks", "int4", g -> g.chunks),
                    col("bytes_transferred", "int8", g -> g.bytesTransferred),
                    col("duration_ms", "int8", g -> g.durationMs),
                    col("reason", "text", g -> g.reason));

    private static final List<Column<RestoreRow>> RESTORE =
            List.of(
                    col("pool_id", "text", r -> r.key.poolId()),
                    col("host_id", "text", r -> r.key.hostId()),
                    col("generation", "int8", r -> r.key.generation()),
                    col("target", "text", r -> r.target),
                    col("state", "text", r -> r.state),
                    col("started_at", "timestamptz", r -> r.startedAt),
                    col("finished_at", "timestamptz", r -> r.finishedAt),
                    col("chunks_restored", "int4", r -> r.chunksRestored),
                    col("chunks_repaired", "int4", r -> r.chunksRepaired),
                    col("duration_ms", "int8", r -> r.durationMs));

    private static final List<Column<VdevRow>> VDEV =
            List.of(
                    col("pool_id", "text", VdevRow::poolId),
                    col("vdev_index", "int4", VdevRow::vdevIndex),
                    col("layout", "text", VdevRow::layout),
                    col("added_at", "timestamptz", VdevRow::addedAt));

    private static final List<Column<Object[]>> VDEV_CHUNK =
            List.of(
                    col("pool_id", "text", m -> m[0]),
                    col("vdev_index", "int4", m -> m[1]),
                    col("position", "int4", m -> m[2]),
                    col("chunk_id", "text", m -> m[3]));

    private static final List<Column<GrowthRow>> GROWTH =
            List.of(
                    col("pool_id", "text", GrowthRow::poolId),
                    col("vdev_index", "int4", GrowthRow::vdevIndex),
                    col("size_bytes_before", "int8", GrowthRow::sizeBytesBefore),
                    col("size_bytes_after", "int8", GrowthRow::sizeBytesAfter),
                    col("trigger", "text", GrowthRow::trigger),
                    col("grown_at", "timestamptz", GrowthRow::grownAt));

    private static final List<Column<Map.Entry<String, Instant[]>>> HOST =
            List.of(
                    col("host_id", "text", Map.Entry::getKey),
                    col("first_seen", "timestamptz", e -> e.getValue()[0]),
                    col("last_seen", "timestamptz", e -> e.getValue()[1]));

    private static final List<Column<Map.Entry<String, Instant[]>>> SERVICE =
            List.of(
                    col(
                            "host_id",
                            "text",
                            e -> e.getKey().substring(0, e.getKey().indexOf('\u001f'))),
                    col(
                            "service",
                            "text",
                            e -> e.getKey().substring(e.getKey().indexOf('\u001f') + 1)),
                    col("first_seen", "timestamptz", e -> e.getValue()[0]),
                    col("last_seen", "timestamptz", e -> e.getValue()[1]));

    private static final List<Column<LogRow>> LOG =
            List.of(
                    col("seq", "int8", LogRow::seq),
                    col("event_id", "text", LogRow::eventId),
                    col("type", "text", LogRow::type),
                    col("topic", "text", LogRow::topic),
                    col("pool_id", "text", LogRow::poolId),
                    col("host_id", "text", LogRow::hostId),
                    col("source", "text", LogRow::source),
                    col("event_time", "timestamptz", LogRow::eventTime),
                    col("payload", "json", LogRow::payload),
                    col("cataloged_at", "timestamptz", LogRow::catalogedAt));

    /**
     * From this many rows a table's upsert goes through a staging table ({@link #upsert}). Below
     * it, the two extra statements would cost more than the arrays they replace: a quiet fleet's
     * batches are a few events each.
     */
    public static final int STAGE_AT = 256;

    /**
     * Every row of a table in one statement. Without {@code key}, the rows are new: a binary {@code
     * COPY} straight into the table. With it, {@code insert ... on conflict (KEY) do update};
     * without {@code update}, the columns outside the key are overwritten. The rows come from
     * {@code unnest(one array per column)}, or, from {@link #STAGE_AT} rows on, from a temporary
     * table filled by a binary {@code COPY} in the same transaction.
     *
     * <p>Why binary COPY: the event log is the largest write, one row per event, and the chunk
     * upsert the next, about one row per event too. As array literals (PgJDBC's {@code
     * createArrayOf}) with every timestamp written as text and parsed again by the server, those
     * rows were a third of the catalog's CPU samples at fleet size; in the binary format a
     * timestamp is eight bytes and a string its UTF-8 bytes (DESIGN.md, "Scale"). Round 3 had
     * dropped a staging table for every batch (text COPY): its two extra statements made the small
     * batches of a quiet fleet slower, hence the threshold.
     */
    private <R> void upsert(
            String table, List<Column<R>> columns, List<R> rows, String key, String update)
            throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        if (key == null) {
            copy(table, columns, rows);
            return;
        }
        boolean staged = rows.size() >= STAGE_AT;
        StringBuilder sql = new StringBuilder("insert into ").append(table).append(" (");
        if (staged) {
            String stage = "stage_" + table;
            StringBuilder create =
                    new StringBuilder("create temp table if not exists ")
                            .append(stage)
                            .append(" (");
            for (int i = 0; i < columns.size(); i++) {
                Column<R> c = columns.get(i);
                create.append(i == 0 ? "" : ", ").append(c.name()).append(' ').append(c.type());
            }
            // Emptied by every commit (and rollback): each batch finds it empty.
            execute(create.append(") on commit delete rows").toString());
            copy(stage, columns, rows);
            // A heap filled after it was emptied is read back in the order it was written:
            // the rows stay in key order, so concurrent batches lock shared rows in one order.
            sql.append(names(columns)).append(") select ").append(names(columns));
            sql.append(" from ").append(stage);
        } else {
            sql.append(names(columns)).append(") select * from unnest(");
            for (int i = 0; i < columns.size(); i++) {
                sql.append(i == 0 ? "" : ", ")
                        .append("?::")
                        .append(columns.get(i).type())
                        .append("[]");
            }
            sql.append(')');
        }
        sql.append(" on conflict (").append(key).append(") do update set ");
        if (update != null) {
            sql.append(update);
        } else {
            Set<String> keys = Set.of(key.split(",\\s*"));
            List<String> sets = new ArrayList<>();
            for (Column<R> c : columns) {
                if (!keys.contains(c.name())) {
                    sets.add(c.name() + " = excluded." + c.name());
                }
            }
            sql.append(String.join(", ", sets));
        }
        try (PreparedStatement s = db.prepareStatement(sql.toString())) {
            if (!staged) {
                for (int i = 0; i < columns.size(); i++) {
                    Column<R> c = columns.get(i);
                    s.setArray(i + 1, array(c.type(), rows, c.value()));
                }
            }
            s.executeUpdate();
        }
    }

    /** {@code COPY table (columns) FROM STDIN}, binary format, the rows in the order given. */
    private <R> void copy(String table, List<Column<R>> columns, List<R> rows) throws SQLException {
        CopyIn copy =
                db.unwrap(PGConnection.class)
                        .getCopyAPI()
                        .copyIn(
                                "copy "
                                        + table
                                        + " ("
                                        + names(columns)
                                        + ") from stdin (format binary)");
        try {
            BinaryRows data = new BinaryRows(copy);
            for (R row : rows) {
                data.row(columns.size());
                for (Column<R> c : columns) {
                    field(data, c.type(), c.value().apply(row));
                }
            }
            data.finish();
        } finally {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
    }

    // Each value in the binary form of its column's type; text and json are their UTF-8 bytes.
    private static void field(BinaryRows data, String type, Object value) throws SQLException {
        if (value == null) {
            data.nul();
            return;
        }
        switch (type) {
            case "int4" -> data.int4(((Number) value).intValue());
            case "int8" -> data.int8(((Number) value).longValue());
            case "bool" -> data.bool((Boolean) value);
            case "timestamptz" -> data.timestamp((Instant) value);
            default -> data.text(value.toString());
        }
    }

    // Timestamps and JSON travel as text and are cast in SQL: the driver has no array of either.
    private <R> Array array(String type, List<R> rows, Function<R, Object> value)
            throws SQLException {
        boolean asText = type.equals("timestamptz") || type.startsWith("json");
        Object[] values = new Object[rows.size()];
        StringBuilder time = new StringBuilder(32);
        for (int i = 0; i < values.length; i++) {
            Object v = value.apply(rows.get(i));
            if (v instanceof Instant t) {
                time.setLength(0);
                iso(time, t);
                values[i] = time.toString();
            } else {
                values[i] = asText && v != null ? v.toString() : v;
            }
        }
        return db.createArrayOf(asText ? "text" : type, values);
    }

    private Array text(Collection<String> values) throws SQLException {
        return db.createArrayOf("text", values.toArray());
    }

    private static <R> String names(List<Column<R>> columns) {
        return names(columns, "");
    }

    private static <R> String names(List<Column<R>> columns, String prefix) {
        StringBuilder names = new StringBuilder();
        for (Column<R> c : columns) {
            names.append(names.length() == 0 ? "" : ", ").append(prefix).append(c.name());
        }
        return names.toString();
    }

    private static List<Map.Entry<String, Instant[]>> sorted(Map<String, Instant[]> seen) {
        List<Map.Entry<String, Instant[]>> entries = new ArrayList<>(seen.entrySet());
        entries.sort(Map.Entry.comparingByKey());
        return entries;
    }

    /**
     * An instant as ISO-8601 at UTC ({@code 2026-11-27T14:06:07.404183Z}), as {@code
     * Instant.toString} writes it for the years 0 to 9999 but without its formatter: that was a
     * tenth of the write path's allocation, two or three timestamps per row (DESIGN.md, "Scale").
     */
    static void iso(StringBuilder text, Instant t) {
        long seconds = t.getEpochSecond();
        LocalDate date = LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400));
        if (date.getYear() < 0 || date.getYear() > 9999) {
            text.append(t);
            return;
        }
        int second = (int) Math.floorMod(seconds, 86_400);
        digits(text, date.getYear(), 4).append('-');
        digits(text, date.getMonthValue(), 2).append('-');
        digits(text, date.getDayOfMonth(), 2).append('T');
        digits(text, second / 3600, 2).append(':');
        digits(text, second / 60 % 60, 2).append(':');
        digits(text, second % 60, 2);
        int nanos = t.getNano();
        if (nanos != 0) {
            text.append('.');
            if (nanos % 1000 == 0) {
                digits(text, nanos / 1000, 6);
            } else {
                digits(text, nanos, 9);
            }
        }
        text.append('Z');
    }

    private static final int[] POWERS_OF_TEN = {
        1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000
    };

    private static StringBuilder digits(StringBuilder text, int value, int width) {
        for (int divisor = POWERS_OF_TEN[width - 1]; divisor > 0; divisor /= 10) {
            text.append((char) ('0' + value / divisor % 10));
        }
        return text;
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
