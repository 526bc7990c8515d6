package io.szpool.device.api;

import io.smallrye.common.annotation.Blocking;
import io.szpool.device.snapshot.SnapshotService;
import io.szpool.device.snapshot.SnapshotService.ChunkChanges;
import io.szpool.device.snapshot.SnapshotService.ChunkStream;
import io.szpool.device.snapshot.SnapshotService.SnapshotInfo;
import io.szpool.service.ProblemException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.util.List;

/**
 * REST API of point-in-time snapshots of a pool's chunk devices, for consistent backups: freeze,
 * read each chunk's ciphertext as of the freeze, drop. Blocking: the barrier waits for writes in
 * flight and the reads stream files.
 */
@Path("/snapshots")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class SnapshotResource {
    private final SnapshotService snapshots;

    public SnapshotResource(SnapshotService snapshots) {
        this.snapshots = snapshots;
    }

    /** The body of {@code POST /snapshots}; without {@code chunkIds}, every chunk of the pool. */
    public record SnapshotRequest(String poolId, List<String> chunkIds) {}

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(SnapshotRequest request) {
        if (request == null) {
            throw ProblemException.badRequest("a JSON body {poolId[, chunkIds]} is required");
        }
        SnapshotInfo info = snapshots.create(request.poolId(), request.chunkIds());
        return Response.status(Response.Status.CREATED).entity(info).build();
    }

    @GET
    @Path("/{sid}")
    public SnapshotInfo show(@PathParam("sid") String sid) {
        return snapshots.info(sid);
    }

    /** The chunk file's ciphertext as of the snapshot, streamed: exactly sizeBytes bytes. */
    @GET
    @Path("/{sid}/chunks/{chunkId}")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public Response chunk(
            @PathParam("sid") String sid,
            @PathParam("chunkId") String chunkId,
            @QueryParam("offset") Long offset,
            @QueryParam("length") Long length) {
        if ((offset == null) != (length == null)) {
            throw ProblemException.badRequest("give both offset and length, or neither");
        }
        // A range: a backup reads only the regions that changed since its previous snapshot.
        ChunkStream stream =
                offset == null
                        ? snapshots.chunk(sid, chunkId)
                        : snapshots.chunk(sid, chunkId, offset, length);
        StreamingOutput body = out -> stream.writer().writeTo(out);
        return Response.ok(body, MediaType.APPLICATION_OCTET_STREAM_TYPE)
                .header("Content-Length", stream.sizeBytes())
                .build();
    }

    /**
     * The regions of the chunk written since an earlier snapshot whose state of it was {@code
     * since} = {@code EPOCH:WRITES}; another epoch (a restart, a re-attach) answers {@code
     * "all":true}.
     */
    @GET
    @Path("/{sid}/chunks/{chunkId}/changes")
    public ChunkChanges changes(
            @PathParam("sid") String sid,
            @PathParam("chunkId") String chunkId,
            @QueryParam("since") String since) {
        if (since == null || since.isBlank()) {
            throw ProblemException.badRequest(
                    "since=EPOCH:WRITES is required: the chunk's state in the earlier snapshot");
        }
        int colon = since.lastIndexOf(':');
        long writes;
        try {
            writes = Long.parseLong(since.substring(colon + 1));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw ProblemException.badRequest(
                    "since must be EPOCH:WRITES with WRITES a number, got " + since);
        }
        if (colon <= 0) {
            throw ProblemException.badRequest("since must be EPOCH:WRITES, got " + since);
        }
        return snapshots.changes(sid, chunkId, since.substring(0, colon), writes);
    }

    @DELETE
    @Path("/{sid}")
    public Response delete(@PathParam("sid") String sid) {
        snapshots.delete(sid);
        return Response.noContent().build();
    }
}
