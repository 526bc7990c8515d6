package io.szpool.catalog.api;

import io.quarkus.panache.common.Parameters;
import io.quarkus.panache.common.Sort;
import io.smallrye.common.annotation.Blocking;
import io.szpool.catalog.chunk.Chunk;
import io.szpool.catalog.chunk.ChunkState;
import io.szpool.service.ProblemException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The chunks of the fleet. */
@Path("/api/chunks")
@Produces(MediaType.APPLICATION_JSON)
public class ChunkResource {
    static final int MAX_LIMIT = 10_000;

    /**
     * Chunks, filtered by pool, host and state (all optional), oldest first.
     *
     * @param unsyncedFor only chunks (not destroyed) whose last sync is older than this ISO-8601
     *     duration, or that were never synced
     * @param limit at most this many rows, 1 to 10000 (default 1000)
     */
    @GET
    @Blocking
    public List<ChunkView> list(
            @QueryParam("pool") String pool,
            @QueryParam("host") String host,
            @QueryParam("state") String state,
            @QueryParam("unsyncedFor") String unsyncedFor,
            @QueryParam("limit") String limit) {
        List<String> where = new ArrayList<>();
        Parameters params = new Parameters();
        if (Params.present(pool)) {
            where.add("poolId = :pool");
            params.and("pool", pool);
        }
        if (Params.present(host)) {
            where.add("hostId = :host");
            params.and("host", host);
        }
        if (Params.present(state)) {
            ChunkState s =
                    ChunkState.parse(state)
                            .orElseThrow(
                                    () ->
                                            ProblemException.badRequest(
                                                    "state must be one of provisioned, attached,"
                                                            + " in-pool, faulted, destroyed; was '"
                                                            + state
                                                            + "'"));
            where.add("state = :state");
            params.and("state", s);
        }
        Duration unsynced = Params.duration("unsyncedFor", unsyncedFor);
        if (unsynced != null) {
            where.add(
                    "state <> :destroyed and (lastSyncedAt is null or lastSyncedAt < :syncedBefore)");
            params.and("destroyed", ChunkState.DESTROYED);
            params.and("syncedBefore", Instant.now().minus(unsynced));
        }
        Sort order = Sort.by("createdAt").and("chunkId");
        List<Chunk> rows =
                where.isEmpty()
                        ? Chunk.findAll(order).page(0, limit(limit)).list()
                        : Chunk.find(String.join(" and ", where), order, params)
                                .page(0, limit(limit))
                                .list();
        return rows.stream().map(ChunkView::of).toList();
    }

    private static int limit(String limit) {
        return Params.whole("limit", limit, 1, MAX_LIMIT, 1000);
    }
}
