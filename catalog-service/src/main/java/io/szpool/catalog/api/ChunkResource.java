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
     * @param limit at most this many rows, 1 to 10000 (default 1000)
     */
    @GET
    @Blocking
    public List<ChunkView> list(
            @QueryParam("pool") String pool,
            @QueryParam("host") String host,
            @QueryParam("state") String state,
            @QueryParam("limit") String limit) {
        List<String> where = new ArrayList<>();
        Parameters params = new Parameters();
        // An empty filter (?pool=) filters nothing, like an absent one.
        if (present(pool)) {
            where.add("poolId = :pool");
            params.and("pool", pool);
        }
        if (present(host)) {
            where.add("hostId = :host");
            params.and("host", host);
        }
        if (present(state)) {
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
        Sort order = Sort.by("createdAt").and("chunkId");
        List<Chunk> rows =
                where.isEmpty()
                        ? Chunk.findAll(order).page(0, limit(limit)).list()
                        : Chunk.find(String.join(" and ", where), order, params)
                                .page(0, limit(limit))
                                .list();
        return rows.stream().map(ChunkView::of).toList();
    }

    private static boolean present(String filter) {
        return filter != null && !filter.isBlank();
    }

    private static int limit(String limit) {
        if (limit == null) {
            return 1000;
        }
        try {
            int n = Integer.parseInt(limit);
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // Falls through to the same answer as an out-of-range number.
        }
        throw ProblemException.badRequest(
                "limit must be a whole number from 1 to " + MAX_LIMIT + ", was '" + limit + "'");
    }
}
