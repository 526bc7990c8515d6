package io.szpool.device.api;

import io.smallrye.common.annotation.Blocking;
import io.szpool.device.chunk.ChunkService;
import io.szpool.device.chunk.ChunkService.ChunkStatus;
import io.szpool.device.chunk.ChunkSpec;
import io.szpool.device.chunk.RestoredFolder;
import io.szpool.device.config.DeviceConfig;
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
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * REST API of the chunks of this host. Every call blocks on files or the broker: worker threads.
 */
@Path("/chunks")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class ChunkResource {
    private final ChunkService chunks;
    private final DeviceConfig config;

    public ChunkResource(ChunkService chunks, DeviceConfig config) {
        this.chunks = chunks;
        this.config = config;
    }

    /**
     * The body of {@code POST /chunks}; absent fields take the defaults of SPEC.md. The same {@code
     * requestId} twice provisions once.
     */
    public record ProvisionRequest(
            String poolId, Integer count, Long sizeBytes, Boolean sparse, String requestId) {}

    /** A chunk as the API shows it; the device address is absent while detached. */
    public record ChunkView(
            String chunkId,
            String poolId,
            String path,
            long sizeBytes,
            boolean sparse,
            String keyId,
            boolean attached,
            String deviceAddress,
            Instant createdAt,
            String restored) {
        static ChunkView of(ChunkStatus s) {
            return new ChunkView(
                    s.record().chunkId(),
                    s.record().poolId(),
                    s.path(),
                    s.record().sizeBytes(),
                    s.record().sparse(),
                    s.record().keyId(),
                    s.deviceAddress() != null,
                    s.deviceAddress(),
                    s.record().createdAt(),
                    s.record().restored());
        }
    }

    public record ChunkList(List<ChunkView> chunks) {}

    /** The body of {@code POST /chunks/adopt}: a folder a restore laid out, absolute. */
    public record AdoptRequest(String folder) {}

    /**
     * One adopted chunk: {@code state} is {@code attached} or {@code detached}, {@code restored}
     * what the restore found of its image ({@code intact}, {@code damaged}, {@code missing}).
     */
    public record AdoptedView(
            String chunkId, String deviceAddress, String state, String restored, long sizeBytes) {}

    public record AdoptAnswer(String poolId, List<AdoptedView> chunks) {}

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
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
        String requestId =
                request.requestId() == null || request.requestId().isBlank()
                        ? UUID.randomUUID().toString()
                        : request.requestId();
        List<ChunkView> made =
                chunks.provision(spec, requestId).stream().map(ChunkView::of).toList();
        return Response.status(Response.Status.CREATED).entity(new ChunkList(made)).build();
    }

    /**
     * Takes over the chunks of a restored folder as this host's own and attaches them (see README,
     * Adopting a restored folder). Adopting a folder again answers the same.
     */
    @POST
    @Path("/adopt")
    @Consumes(MediaType.APPLICATION_JSON)
    public AdoptAnswer adopt(AdoptRequest request) {
        RestoredFolder folder =
                RestoredFolder.read(request == null ? null : request.folder(), config.dataDir());
        List<AdoptedView> adopted =
                chunks.adopt(folder).stream()
                        .map(
                                a ->
                                        new AdoptedView(
                                                a.status().record().chunkId(),
                                                a.status().deviceAddress(),
                                                a.status().deviceAddress() == null
                                                        ? "detached"
                                                        : "attached",
                                                a.restored(),
                                                a.status().record().sizeBytes()))
                        .toList();
        return new AdoptAnswer(folder.poolId(), adopted);
    }

    @GET
    public ChunkList list(@QueryParam("pool") String pool) {
        return new ChunkList(
                chunks.list().stream()
                        .filter(
                                s ->
                                        pool == null
                                                || pool.isBlank()
                                                || pool.equals(s.record().poolId()))
                        .map(ChunkView::of)
                        .toList());
    }

    @GET
    @Path("/{id}")
    public ChunkView show(@PathParam("id") String id) {
        return ChunkView.of(chunks.get(id));
    }

    @POST
    @Path("/{id}/attach")
    public ChunkView attach(@PathParam("id") String id) {
        return ChunkView.of(chunks.attach(id));
    }

    @POST
    @Path("/{id}/detach")
    public ChunkView detach(@PathParam("id") String id) {
        return ChunkView.of(chunks.detach(id));
    }

    @DELETE
    @Path("/{id}")
    public Response destroy(@PathParam("id") String id, @QueryParam("force") boolean force) {
        chunks.destroy(id, force);
        return Response.noContent().build();
    }
}
