package io.szpool.sync.api;

import io.szpool.service.ProblemException;
import io.szpool.sync.generation.GenerationStore.CheckReport;
import io.szpool.sync.generation.GenerationStore.ChunkCheck;
import io.szpool.sync.generation.GenerationStore.SyncResult;
import io.szpool.sync.run.SyncService;
import io.szpool.sync.run.SyncService.Status;
import io.szpool.sync.run.SyncService.SyncOrder;
import io.szpool.sync.schedule.SyncScheduler;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Sync runs of this host's pools: run one now, see generations, verify, pin. */
@Path("/syncs")
public class SyncResource {
    private final SyncService syncs;
    private final SyncScheduler scheduler;

    public SyncResource(SyncService syncs, SyncScheduler scheduler) {
        this.syncs = syncs;
        this.scheduler = scheduler;
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

    /**
     * What a sync run did, as the caller sees it; {@code barrierMillis} is how long the pool's
     * writes were held for a live capture (absent for chunk files at rest).
     */
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
            List<Long> pruned,
            Long barrierMillis) {}

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
                s.pruned(),
                s.barrierMillis());
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

    /** A pool's own sync interval, ISO-8601 ({@code PT5M}); {@code PT0S} = only when asked. */
    public record ScheduleRequest(String every) {}

    /** When the pool is synced to the default target without being asked. */
    @GET
    @Path("/{poolId}/schedule")
    public SyncScheduler.ScheduleView schedule(@PathParam("poolId") String poolId) {
        return scheduler.view(poolId);
    }

    /** Sets the pool's own interval; {@code {"every": null}} goes back to the default. */
    @PUT
    @Path("/{poolId}/schedule")
    public SyncScheduler.ScheduleView schedule(
            @PathParam("poolId") String poolId, ScheduleRequest request) {
        if (request == null) {
            throw ProblemException.badRequest("a body with \"every\" (e.g. \"PT15M\") is needed");
        }
        Duration every = null;
        if (request.every() != null) {
            try {
                every = Duration.parse(request.every());
            } catch (DateTimeParseException e) {
                throw ProblemException.badRequest(
                        "every is an ISO-8601 duration such as PT15M, not " + request.every());
            }
        }
        return scheduler.schedule(poolId, every);
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
