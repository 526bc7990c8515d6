package io.szpool.pool.api;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.PoolEvent.PoolScrubbed;
import io.szpool.events.Vocabulary.GrowthTrigger;
import io.szpool.pool.engine.PoolManager;
import io.szpool.service.ProblemException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * REST API of this host's pools. Create and grow answer when the saga is done (the pool serves) or
 * rolled back (a problem saying why). Every call may block on devices or the broker.
 */
@Path("/pools")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class PoolResource {
    private static final long DEFAULT_CHUNK = 1L << 30;
    private final PoolManager pools;

    public PoolResource(PoolManager pools) {
        this.pools = pools;
    }

    /** Body of {@code POST /pools}; absent fields take SPEC.md's defaults (6 wide, 1 GiB, 1). */
    public record CreateRequest(String name, Integer width, Long chunkSizeBytes, Integer vdevs) {}

    /** Body of {@code POST /pools/{name}/grow}; absent means one vdev. */
    public record GrowRequest(Integer vdevs) {}

    /** Body of {@code PUT /pools/{name}/policy}; absent fields stay as they are. */
    public record PolicyRequest(Boolean autoGrow, Integer thresholdPercent, Long maxSizeBytes) {}

    public record PoolList(List<PoolView> pools) {}

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(CreateRequest request) {
        if (request == null) {
            throw ProblemException.badRequest(
                    "a JSON body {name, width, chunkSizeBytes, vdevs} is required");
        }
        pools.await(
                pools.create(
                        request.name(),
                        request.width() == null ? 6 : request.width(),
                        request.chunkSizeBytes() == null ? DEFAULT_CHUNK : request.chunkSizeBytes(),
                        request.vdevs() == null ? 1 : request.vdevs()));
        return Response.status(Response.Status.CREATED).entity(show(request.name())).build();
    }

    @GET
    public PoolList list() {
        return new PoolList(pools.list().stream().map(s -> PoolView.of(s, pools)).toList());
    }

    @GET
    @Path("/{name}")
    public PoolView show(@PathParam("name") String name) {
        return PoolView.of(pools.get(name), pools);
    }

    @POST
    @Path("/{name}/grow")
    public PoolView grow(@PathParam("name") String name, GrowRequest request) {
        int vdevs = request == null || request.vdevs() == null ? 1 : request.vdevs();
        pools.await(pools.grow(name, vdevs, GrowthTrigger.OPERATOR));
        return show(name);
    }

    @POST
    @Path("/{name}/scrub")
    public PoolScrubbed scrub(@PathParam("name") String name) {
        return pools.scrub(name);
    }

    @POST
    @Path("/{name}/export")
    public PoolView export(@PathParam("name") String name) {
        pools.exportPool(name);
        return show(name);
    }

    @POST
    @Path("/{name}/import")
    public PoolView importPool(@PathParam("name") String name) {
        return PoolView.of(pools.importPool(name), pools);
    }

    @PUT
    @Path("/{name}/policy")
    @Consumes(MediaType.APPLICATION_JSON)
    public PoolView policy(@PathParam("name") String name, PolicyRequest request) {
        if (request == null) {
            throw ProblemException.badRequest(
                    "a JSON body {autoGrow, thresholdPercent, maxSizeBytes} is required");
        }
        pools.setPolicy(
                name, request.autoGrow(), request.thresholdPercent(), request.maxSizeBytes());
        return show(name);
    }

    @DELETE
    @Path("/{name}")
    public Response destroy(@PathParam("name") String name) {
        pools.destroy(name);
        return Response.noContent().build();
    }
}
