package io.szpool.sync.api;

import io.szpool.service.ProblemException;
import io.szpool.sync.generation.GenerationStore.CheckReport;
import io.szpool.sync.generation.GenerationStore.ChunkCheck;
import io.szpool.sync.generation.GenerationStore.SyncResult;
import io.szpool.sync.run.SyncService;
import io.szpool.sync.run.SyncService.Status;
import io.szpool.sync.run.SyncService.SyncOrder;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Sync runs of this host's pools: run one now, see generations, verify, pin. */
@Path("/syncs")
public class SyncResource {
    private final SyncService syncs;

    public SyncResource(SyncService syncs) {
        this.syncs = syncs;
    }

    /**
     * A sync request.
     *
     * @param target where to (default: szpool.sync.default-target)
     * @param source a crypto-device-service data folder holding the pool's chunks at rest (default:
     *     szpool.sync.chunk-data-dir)
     * @param bwlimitKib rsync {@code --bwlimit} for this run
     */
    public record SyncRequest(String target, String source, Integer bwlimitKib) {}

    /** What a sync run did, as the caller sees it. */
    public record SyncAnswer(
            String poolId,
            String target,
            long generation,
            int chunks,
            int chunksSent,
            long bytesSent,
            long literalBytes,
            long bytesReferenced,
            long durationMs,
            List<Long> pruned) {}

    /** Writes a new generation now and answers when its manifest is on the target. */
    @POST
    @Path("/{poolId}")
    public SyncAnswer sync(@PathParam("poolId") String poolId, SyncRequest request) {
        SyncRequest r = request == null ? new SyncRequest(null, null, null) : request;
        if (r.bwlimitKib() != null && r.bwlimitKib() < 0) {
            throw ProblemException.badRequest("bwlimitKib must be 0 (none) or more");
        }
        SyncOrder order =
                new SyncOrder(
                        Optional.ofNullable(r.target()),
                        Optional.ofNullable(r.source()).map(java.nio.file.Path::of),
                        Optional.ofNullable(r.bwlimitKib()));
        SyncResult s = syncs.sync(poolId, order);
        return new SyncAnswer(
                poolId,
                syncs.targetAddress(order.target()),
                s.generation(),
                s.chunks(),
                s.chunksSent(),
                s.bytesSent(),
                s.literalBytes(),
                s.bytesReferenced(),
                s.durationMs(),
                s.pruned());
    }

    @GET
    @Path("/{poolId}")
    public Status status(@PathParam("poolId") String poolId, @QueryParam("target") String target) {
        return syncs.status(poolId, Optional.ofNullable(target));
    }

    /** A verify request; both fields optional. */
    public record VerifyRequest(String target, Long generation) {}

    /** The outcome of a verify or restore. */
    public record CheckAnswer(
            String poolId,
            String target,
            long generation,
            boolean intact,
            List<String> missing,
            List<String> damaged,
            List<ChunkCheck> chunks) {
        static CheckAnswer of(String target, CheckReport r) {
            return new CheckAnswer(
                    r.poolId(),
                    target,
                    r.generation(),
                    r.intact(),
                    r.with(ChunkCheck.MISSING).stream().map(ChunkCheck::chunkId).toList(),
                    r.with(ChunkCheck.DAMAGED).stream().map(ChunkCheck::chunkId).toList(),
                    r.chunks());
        }
    }

    @POST
    @Path("/{poolId}/verify")
    public CheckAnswer verify(@PathParam("poolId") String poolId, VerifyRequest request) {
        VerifyRequest r = request == null ? new VerifyRequest(null, null) : request;
        CheckReport report =
                syncs.verify(
                        poolId,
                        Optional.ofNullable(r.target()),
                        Optional.ofNullable(r.generation()));
        return CheckAnswer.of(syncs.targetAddress(Optional.ofNullable(r.target())), report);
    }

    /** Stops the pool's running sync; the run ends with SyncFailed, earlier generations intact. */
    @POST
    @Path("/{poolId}/cancel")
    public jakarta.ws.rs.core.Response cancel(@PathParam("poolId") String poolId) {
        if (!syncs.cancel(poolId)) {
            throw ProblemException.notFound("pool " + poolId + " has no sync running");
        }
        return jakarta.ws.rs.core.Response.accepted().build();
    }

    @PUT
    @Path("/{poolId}/pins/{generation}")
    public Set<Long> pin(
            @PathParam("poolId") String poolId,
            @PathParam("generation") long generation,
            @QueryParam("target") String target) {
        return syncs.pin(poolId, Optional.ofNullable(target), generation, true);
    }

    @DELETE
    @Path("/{poolId}/pins/{generation}")
    public Set<Long> unpin(
            @PathParam("poolId") String poolId,
            @PathParam("generation") long generation,
            @QueryParam("target") String target) {
        return syncs.pin(poolId, Optional.ofNullable(target), generation, false);
    }
}
