package io.szpool.device.api;

import io.smallrye.common.annotation.Blocking;
import io.szpool.device.chunk.ChunkProvisioner;
import io.szpool.device.chunk.ChunkSpec;
import io.szpool.device.chunk.ProvisionedChunk;
import io.szpool.service.ProblemException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/** REST API of the chunks of this host. */
@Path("/chunks")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class ChunkResource {
    private final ChunkProvisioner provisioner;

    public ChunkResource(ChunkProvisioner provisioner) {
        this.provisioner = provisioner;
    }

    /** The body of {@code POST /chunks}; absent fields take the defaults of SPEC.md. */
    public record ProvisionRequest(String poolId, Integer count, Long sizeBytes, Boolean sparse) {}

    /** One created chunk as the API shows it. */
    public record ChunkView(
            String chunkId, String poolId, String path, long sizeBytes, boolean sparse) {
        static ChunkView of(ProvisionedChunk chunk) {
            return new ChunkView(
                    chunk.chunkId(),
                    chunk.poolId(),
                    chunk.path().toString(),
                    chunk.sizeBytes(),
                    chunk.sparse());
        }
    }

    public record ProvisionResponse(List<ChunkView> chunks) {}

    // Creating files and waiting for the broker's acks blocks, so not on the event loop.
    @POST
    @Blocking
    public Response provision(ProvisionRequest request) {
        if (request == null) {
            throw ProblemException.badRequest("a JSON body {poolId, count, sizeBytes} is required");
        }
        ChunkSpec spec =
                new ChunkSpec(
                        request.poolId(),
                        request.count() == null ? 1 : request.count(),
                        request.sizeBytes() == null ? ChunkSpec.DEFAULT_SIZE : request.sizeBytes(),
                        request.sparse() == null || request.sparse());
        List<ChunkView> chunks = provisioner.provision(spec).stream().map(ChunkView::of).toList();
        return Response.status(Response.Status.CREATED)
                .entity(new ProvisionResponse(chunks))
                .build();
    }
}
