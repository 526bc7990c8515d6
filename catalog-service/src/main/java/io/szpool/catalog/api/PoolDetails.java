package io.szpool.catalog.api;

import io.szpool.catalog.api.PoolResource.GrowthView;
import io.szpool.catalog.api.PoolResource.PoolDetail;
import io.szpool.catalog.api.PoolResource.PoolView;
import io.szpool.catalog.api.PoolResource.VdevView;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Reads one pool with its chunks, vdevs and growth: four queries in one statement, so one round
 * trip to PostgreSQL and no persistence context. Through Panache the same answer took five round
 * trips (pool, chunks, vdevs, a chunk per vdev member outside the pool, last sync) and a hundred
 * managed entities; under a loaded machine each round trip is a wake-up of two processes, and the
 * bench measured the endpoint at 11x the plain SQL of its chunk query (DESIGN.md, "Scale").
 */
@ApplicationScoped
public class PoolDetails {
    static final String CHUNK_COLUMNS =
            "chunk_id, pool_id, host_id, path, size_bytes, sparse, cipher, driver, state, in_pool,"
                    + " device_address, last_synced_generation, last_synced_at, created_at,"
                    + " updated_at";

    // PgJDBC sends the four statements of one PreparedStatement together and reads four results.
    private static final String SQL =
            "select p.pool_id, p.name, p.host_id, p.layout, p.width, p.chunk_size_bytes,"
                    + " p.size_bytes, p.allocated_bytes, p.health, p.state, p.created_at,"
                    + " p.updated_at, p.last_scrubbed_at, s.generation, s.finished_at from pool p"
                    + " left join lateral (select max(generation) generation, max(finished_at)"
                    + " finished_at from sync_generation g where g.pool_id = p.pool_id and g.state"
                    + " = 'completed') s on true where p.pool_id = ?;"
                    + " select "
                    + CHUNK_COLUMNS
                    + " from chunk where pool_id = ? order by created_at, chunk_id;"
                    // A vdev member the device topic placed in another pool is not among the
                    // pool's chunks: it comes with its vdev row.
                    + " select v.vdev_index, v.layout, v.added_at, m.chunk_id, o.chunk_id,"
                    + " o.pool_id, o.host_id, o.path, o.size_bytes, o.sparse, o.cipher, o.driver,"
                    + " o.state, o.in_pool, o.device_address, o.last_synced_generation,"
                    + " o.last_synced_at, o.created_at, o.updated_at from vdev v left join"
                    + " vdev_chunk m on m.pool_id = v.pool_id and m.vdev_index = v.vdev_index left"
                    + " join chunk o on o.chunk_id = m.chunk_id and o.pool_id <> v.pool_id where"
                    + " v.pool_id = ? order by v.vdev_index, m.position;"
                    + " select vdev_index, size_bytes_before, size_bytes_after, trigger, grown_at"
                    + " from pool_growth where pool_id = ? order by vdev_index";

    // GET /api/pools: one page of pools with their last completed generation, one statement. The
    // filters and the order run on the pool table alone and the page is cut there, so the last
    // sync is looked up (sync_generation_completed_idx) for the page's pools only: at 10,000 pools
    // the whole list was what the dashboard's first render waited for.
    private static final String PAGE =
            "select p.pool_id, p.name, p.host_id, p.layout, p.width, p.chunk_size_bytes,"
                    + " p.size_bytes, p.allocated_bytes, p.health, p.state, p.created_at,"
                    + " p.updated_at, p.last_scrubbed_at, s.generation, s.finished_at from (select"
                    + " * from pool q where true%s order by %s limit ? offset ?) p left join"
                    + " lateral (select max(generation) generation, max(finished_at) finished_at"
                    + " from sync_generation g where g.pool_id = p.pool_id and g.state ="
                    + " 'completed') s on true order by %s";

    /** The orders a page of pools can come in. */
    public enum PoolOrder {
        /** By pool id. */
        ID("pool_id"),
        /**
         * Those needing attention first: live pools whose health is not ONLINE, then the other live
         * pools, fullest first (a pool above the capacity threshold comes before any below it),
         * destroyed pools last; ties by pool id.
         */
        ATTENTION(
                "case when state = 'destroyed' then 2 when coalesce(health, 'ONLINE') <> 'ONLINE'"
                        + " then 0 else 1 end, case when size_bytes > 0 then allocated_bytes::float8"
                        + " / size_bytes end desc nulls last, pool_id");

        final String sql;

        PoolOrder(String sql) {
            this.sql = sql;
        }
    }

    /** Which pools a page holds; a null filter filters nothing. */
    public record PoolQuery(
            String hostId,
            Integer minUsedPercent,
            Instant syncedBefore,
            PoolOrder order,
            int limit,
            int offset) {}

    private final DataSource dataSource;

    public PoolDetails(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** One page of pools. */
    public List<PoolView> list(PoolQuery q) {
        StringBuilder where = new StringBuilder();
        List<Object> values = new ArrayList<>();
        if (q.hostId() != null) {
            where.append(" and q.host_id = ?");
            values.add(q.hostId());
        }
        if (q.minUsedPercent() != null) {
            where.append(" and q.size_bytes > 0 and q.allocated_bytes * 100 >= ? * q.size_bytes");
            values.add(q.minUsedPercent());
        }
        if (q.syncedBefore() != null) {
            // No completed backup since then, or none at all.
            where.append(
                    " and not exists (select 1 from sync_generation g where g.pool_id = q.pool_id"
                            + " and g.state = 'completed' and g.finished_at >= ?)");
            values.add(java.time.OffsetDateTime.ofInstant(q.syncedBefore(), ZoneOffset.UTC));
        }
        values.add(q.limit());
        values.add(q.offset());
        // The outer order names the page's columns, which the lateral join does not shadow.
        String sql = String.format(PAGE, where, q.order().sql, q.order().sql);
        try (Connection db = dataSource.getConnection();
                PreparedStatement s = db.prepareStatement(sql)) {
            for (int i = 0; i < values.size(); i++) {
                s.setObject(i + 1, values.get(i));
            }
            List<PoolView> pools = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    pools.add(pool(rs));
                }
            }
            return pools;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read pools: " + e.getMessage(), e);
        }
    }

    /** The pool's detail, or empty if the catalog has no such pool. */
    public Optional<PoolDetail> read(String poolId) {
        try (Connection db = dataSource.getConnection();
                PreparedStatement s = db.prepareStatement(SQL)) {
            for (int i = 1; i <= 4; i++) {
                s.setString(i, poolId);
            }
            s.execute();
            PoolView pool;
            try (ResultSet rs = s.getResultSet()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                pool = pool(rs);
            }
            Map<String, ChunkView> chunks = new LinkedHashMap<>();
            s.getMoreResults();
            try (ResultSet rs = s.getResultSet()) {
                while (rs.next()) {
                    ChunkView c = ChunkView.read(rs, 1);
                    chunks.put(c.chunkId(), c);
                }
            }
            Map<Integer, VdevView> vdevs = new LinkedHashMap<>();
            s.getMoreResults();
            try (ResultSet rs = s.getResultSet()) {
                while (rs.next()) {
                    int index = rs.getInt(1);
                    VdevView vdev = vdevs.get(index);
                    if (vdev == null) {
                        vdev =
                                new VdevView(
                                        index,
                                        rs.getString(2),
                                        instant(rs, 3),
                                        new ArrayList<>(),
                                        new ArrayList<>());
                        vdevs.put(index, vdev);
                    }
                    String chunkId = rs.getString(4);
                    if (chunkId != null) {
                        vdev.chunkIds().add(chunkId);
                        ChunkView chunk =
                                rs.getString(5) != null
                                        ? ChunkView.read(rs, 5)
                                        : chunks.get(chunkId);
                        if (chunk != null) {
                            vdev.chunks().add(chunk);
                        }
                    }
                }
            }
            List<GrowthView> growth = new ArrayList<>();
            s.getMoreResults();
            try (ResultSet rs = s.getResultSet()) {
                while (rs.next()) {
                    growth.add(
                            new GrowthView(
                                    rs.getInt(1),
                                    rs.getLong(2),
                                    rs.getLong(3),
                                    rs.getString(4),
                                    instant(rs, 5)));
                }
            }
            return Optional.of(
                    new PoolDetail(
                            pool,
                            List.copyOf(vdevs.values()),
                            growth,
                            List.copyOf(chunks.values())));
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot read pool " + poolId + ": " + e.getMessage(), e);
        }
    }

    private static PoolView pool(ResultSet rs) throws SQLException {
        Long size = (Long) rs.getObject(7);
        Long allocated = (Long) rs.getObject(8);
        Instant syncedAt = instant(rs, 15);
        return new PoolView(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                (Integer) rs.getObject(5),
                (Long) rs.getObject(6),
                size,
                allocated,
                PoolResource.usedPercent(size, allocated),
                rs.getString(9),
                rs.getString(10),
                instant(rs, 11),
                instant(rs, 12),
                instant(rs, 13),
                (Long) rs.getObject(14),
                syncedAt,
                PoolResource.lagSeconds(syncedAt, Instant.now()));
    }

    static Instant instant(ResultSet rs, int column) throws SQLException {
        java.time.OffsetDateTime t = rs.getObject(column, java.time.OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
