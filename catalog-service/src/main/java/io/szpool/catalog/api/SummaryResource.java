package io.szpool.catalog.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

/**
 * The fleet in numbers, for the dashboard's first render: a fixed-size answer whatever the fleet's
 * size, where the lists (every pool, every chunk) grow with it.
 *
 * <p>Counting a million chunks by state is most of a second on a loaded two-core machine, so an
 * answer is reused while nothing has been cataloged since it was read (and for at most {@link
 * SummaryCache#REUSE}, because "silent" and "not backed up" move with the clock), and one count
 * runs at a time: every open dashboard, and every reload, shares it. Never stale against the rows:
 * a batch that commits while the count runs makes that count's answer unusable for the next
 * request.
 */
@Path("/api/summary")
@Produces(MediaType.APPLICATION_JSON)
public class SummaryResource {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<TreeMap<String, Long>> COUNTS = new TypeReference<>() {};

    // One statement, one round trip. Hosts and pools are small tables (a thousand, ten thousand
    // rows at the size); the chunks by state are the one scan that grows with the fleet
    // (DESIGN.md, "Dashboard"); the unsynced chunks use the partial index chunk_unsynced_idx.
    static final String SQL =
            "select (select count(*) from host),"
                    + " (select count(*) from host where last_seen < ?),"
                    + " p.pools, p.above, p.lagging, p.size, p.allocated,"
                    + " (select coalesce(json_object_agg(h, n), '{}') from (select coalesce(health,"
                    + " 'unknown') h, count(*) n from pool where state is distinct from"
                    + " 'destroyed' group by 1) x),"
                    + " (select coalesce(json_object_agg(lower(replace(s, '_', '-')), n), '{}')"
                    + " from (select state s, count(*) n from chunk group by state) c),"
                    + " (select count(*) from chunk where state <> 'DESTROYED' and (last_synced_at"
                    + " is null or last_synced_at < ?))"
                    + " from (select count(*) pools,"
                    + " count(*) filter (where size_bytes > 0 and allocated_bytes * 100 >= ? *"
                    + " size_bytes) above,"
                    + " count(*) filter (where not exists (select 1 from sync_generation g where"
                    + " g.pool_id = q.pool_id and g.state = 'completed' and g.finished_at >= ?))"
                    + " lagging,"
                    + " coalesce(sum(size_bytes), 0) size, coalesce(sum(allocated_bytes), 0)"
                    + " allocated from pool q where state is distinct from 'destroyed') p";

    private final DataSource dataSource;
    private final SummaryCache cache;

    public SummaryResource(DataSource dataSource, SummaryCache cache) {
        this.dataSource = dataSource;
        this.cache = cache;
    }

    /** Hosts, and hosts silent for longer than {@code notSeenFor}. */
    public record HostCounts(long total, long notSeen) {}

    /**
     * Pools that are not destroyed: by health, at or above the capacity threshold, without a
     * completed backup for longer than {@code syncLagOver}; their size and allocated bytes summed.
     */
    public record PoolCounts(
            long total,
            Map<String, Long> byHealth,
            long aboveThreshold,
            long syncLagging,
            long sizeBytes,
            long allocatedBytes) {}

    /** Chunks by state, and live chunks whose newest copy is older than {@code unsyncedFor}. */
    public record ChunkCounts(long total, Map<String, Long> byState, long unsynced) {}

    /**
     * The thresholds the counts were taken with, so a reader knows what they mean (the durations in
     * ISO-8601, as the parameters take them).
     */
    public record Thresholds(
            int minUsedPercent, String notSeenFor, String syncLagOver, String unsyncedFor) {}

    /** The fleet at a glance. */
    public record Summary(
            Instant at,
            Thresholds thresholds,
            HostCounts hosts,
            PoolCounts pools,
            ChunkCounts chunks) {}

    /**
     * @param minUsedPercent the capacity threshold, 0 to 100 (default 80, pool-service's alert)
     * @param notSeenFor a host is silent after this ISO-8601 duration (default PT15M)
     * @param syncLagOver a pool lags without a completed backup for this long (default P1D)
     * @param unsyncedFor a chunk lags when its newest copy is older than this (default P1D)
     */
    @GET
    @Blocking
    @Operation(
            summary = "The fleet in numbers",
            description =
                    "Hosts, pools (not destroyed) and chunks counted over the whole catalog, with"
                            + " the thresholds used; a fixed-size answer whatever the fleet's"
                            + " size. 400 for a bad parameter.")
    public Summary summary(
            @Parameter(description = "capacity threshold in percent, 0 to 100 (default 80)")
                    @QueryParam("minUsedPercent")
                    String minUsedPercent,
            @Parameter(description = "a host is silent after this ISO-8601 duration (PT15M)")
                    @QueryParam("notSeenFor")
                    String notSeenFor,
            @Parameter(description = "a pool lags without a completed backup this long (P1D)")
                    @QueryParam("syncLagOver")
                    String syncLagOver,
            @Parameter(description = "a live chunk lags when its newest copy is older (P1D)")
                    @QueryParam("unsyncedFor")
                    String unsyncedFor) {
        int minUsed = Params.whole("minUsedPercent", minUsedPercent, 0, 100, 80);
        Duration silent =
                orDefault(Params.duration("notSeenFor", notSeenFor), Duration.ofMinutes(15));
        Duration lag = orDefault(Params.duration("syncLagOver", syncLagOver), Duration.ofDays(1));
        Duration unsynced =
                orDefault(Params.duration("unsyncedFor", unsyncedFor), Duration.ofDays(1));
        Thresholds t =
                new Thresholds(minUsed, silent.toString(), lag.toString(), unsynced.toString());
        return cache.get(t, Instant.now(), now -> count(t, silent, lag, unsynced, now));
    }

    private Summary count(
            Thresholds t, Duration silent, Duration lag, Duration unsynced, Instant now) {
        int minUsed = t.minUsedPercent();
        try (Connection db = dataSource.getConnection();
                PreparedStatement s = db.prepareStatement(SQL)) {
            s.setObject(1, utc(now.minus(silent)));
            s.setObject(2, utc(now.minus(unsynced)));
            s.setInt(3, minUsed);
            s.setObject(4, utc(now.minus(lag)));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                Map<String, Long> health = JSON.readValue(rs.getString(8), COUNTS);
                Map<String, Long> states = JSON.readValue(rs.getString(9), COUNTS);
                return new Summary(
                        now,
                        t,
                        new HostCounts(rs.getLong(1), rs.getLong(2)),
                        new PoolCounts(
                                rs.getLong(3),
                                health,
                                rs.getLong(4),
                                rs.getLong(5),
                                rs.getLong(6),
                                rs.getLong(7)),
                        new ChunkCounts(
                                states.values().stream().mapToLong(Long::longValue).sum(),
                                states,
                                rs.getLong(10)));
            }
        } catch (SQLException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot read the fleet summary: " + e.getMessage(), e);
        }
    }

    private static Duration orDefault(Duration value, Duration otherwise) {
        return value == null ? otherwise : value;
    }

    private static OffsetDateTime utc(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }
}
