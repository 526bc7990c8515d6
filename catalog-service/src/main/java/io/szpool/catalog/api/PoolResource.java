package io.szpool.catalog.api;

import io.smallrye.common.annotation.Blocking;
import io.szpool.catalog.api.PoolDetails.PoolOrder;
import io.szpool.catalog.api.PoolDetails.PoolQuery;
import io.szpool.catalog.pool.Pool;
import io.szpool.service.ProblemException;
import jakarta.persistence.EntityManager;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

/** The pools of the fleet, their vdevs, growth and backup generations. */
@Path("/api/pools")
@Produces(MediaType.APPLICATION_JSON)
public class PoolResource {
    static final int MAX_LIMIT = 10_000;

    private final EntityManager em;
    private final PoolDetails details;

    public PoolResource(EntityManager em, PoolDetails details) {
        this.em = em;
        this.details = details;
    }

    /**
     * A pool. {@code usedPercent} is allocated of size as last reported; {@code syncLagSeconds} is
     * the age of the last completed backup generation (null if none).
     */
    public record PoolView(
            String poolId,
            String name,
            String hostId,
            String layout,
            Integer width,
            Long chunkSizeBytes,
            Long sizeBytes,
            Long allocatedBytes,
            Double usedPercent,
            String health,
            String state,
            Instant createdAt,
            Instant updatedAt,
            Instant lastScrubbedAt,
            Long lastSyncedGeneration,
            Instant lastSyncedAt,
            Long syncLagSeconds) {}

    /** One vdev: its chunk ids in column order and those chunks as the catalog knows them. */
    public record VdevView(
            int index,
            String layout,
            Instant addedAt,
            List<String> chunkIds,
            List<ChunkView> chunks) {}

    /** One growth step of a pool. */
    public record GrowthView(
            int vdevIndex,
            long sizeBytesBefore,
            long sizeBytesAfter,
            String trigger,
            Instant grownAt) {}

    /** A pool with its vdevs, growth history and every chunk that names it. */
    public record PoolDetail(
            PoolView pool, List<VdevView> vdevs, List<GrowthView> growth, List<ChunkView> chunks) {}

    /** A backup generation of a pool on one target. */
    public record GenerationView(
            String target,
            long generation,
            String hostId,
            String state,
            Instant startedAt,
            Instant finishedAt,
            int chunksSynced,
            long bytesSynced,
            Integer chunks,
            Long bytesTransferred,
            Long durationMs,
            String reason) {}

    /**
     * One page of pools, by id or those needing attention first.
     *
     * @param host only pools of this host
     * @param minUsedPercent only pools at least this full (0 to 100), e.g. 80
     * @param syncLagOver only pools whose last completed sync is older than this ISO-8601 duration,
     *     or that never completed one
     * @param order {@code id} (default) or {@code attention}: live pools not ONLINE first, then the
     *     fullest, destroyed pools last
     * @param limit at most this many pools, 1 to 10000 (default 1000)
     * @param offset skip this many pools of that order first (default 0)
     */
    @GET
    @Blocking
    public List<PoolView> list(
            @QueryParam("host") String host,
            @QueryParam("minUsedPercent") String minUsedPercent,
            @QueryParam("syncLagOver") String syncLagOver,
            @Parameter(
                            description =
                                    "id (default) or attention: live pools not ONLINE first, then"
                                            + " the fullest, destroyed pools last")
                    @QueryParam("order")
                    String order,
            @Parameter(description = "at most this many pools, 1 to 10000 (default 1000)")
                    @QueryParam("limit")
                    String limit,
            @Parameter(description = "skip this many pools of the order first (default 0)")
                    @QueryParam("offset")
                    String offset) {
        Integer minUsed =
                Params.present(minUsedPercent)
                        ? Params.whole("minUsedPercent", minUsedPercent, 0, 100, 0)
                        : null;
        Duration lag = Params.duration("syncLagOver", syncLagOver);
        PoolOrder by;
        if (!Params.present(order) || order.equals("id")) {
            by = PoolOrder.ID;
        } else if (order.equals("attention")) {
            by = PoolOrder.ATTENTION;
        } else {
            throw ProblemException.badRequest("order must be id or attention, was '" + order + "'");
        }
        return details.list(
                new PoolQuery(
                        Params.present(host) ? host : null,
                        minUsed,
                        lag == null ? null : Instant.now().minus(lag),
                        by,
                        Params.whole("limit", limit, 1, MAX_LIMIT, 1000),
                        Params.whole("offset", offset, 0, Integer.MAX_VALUE, 0)));
    }

    @GET
    @Path("{id}")
    @Blocking
    public PoolDetail get(@PathParam("id") String id) {
        return details.read(id)
                .orElseThrow(() -> ProblemException.notFound("no pool " + id + " in the catalog"));
    }

    /** The backup generations of a pool, newest first. */
    @GET
    @Path("{id}/generations")
    @Blocking
    @SuppressWarnings("unchecked")
    public List<GenerationView> generations(@PathParam("id") String id) {
        pool(id);
        List<GenerationView> views = new ArrayList<>();
        for (Object[] row :
                (List<Object[]>)
                        em.createNativeQuery(
                                        "select target, generation, host_id, state, started_at,"
                                                + " finished_at, chunks_synced, bytes_synced,"
                                                + " chunks, bytes_transferred, duration_ms, reason"
                                                + " from sync_generation where pool_id = ?1 order"
                                                + " by generation desc, target")
                                .setParameter(1, id)
                                .getResultList()) {
            views.add(
                    new GenerationView(
                            (String) row[0],
                            Params.number(row[1]),
                            (String) row[2],
                            (String) row[3],
                            Params.instant(row[4]),
                            Params.instant(row[5]),
                            ((Number) row[6]).intValue(),
                            Params.number(row[7]),
                            row[8] == null ? null : ((Number) row[8]).intValue(),
                            Params.number(row[9]),
                            Params.number(row[10]),
                            (String) row[11]));
        }
        return views;
    }

    private static Pool pool(String id) {
        Pool pool = Pool.findById(id);
        if (pool == null) {
            throw ProblemException.notFound("no pool " + id + " in the catalog");
        }
        return pool;
    }

    static Double usedPercent(Long size, Long allocated) {
        return size != null && size > 0 && allocated != null ? 100.0 * allocated / size : null;
    }

    static Long lagSeconds(Instant syncedAt, Instant now) {
        return syncedAt == null ? null : Duration.between(syncedAt, now).toSeconds();
    }
}
