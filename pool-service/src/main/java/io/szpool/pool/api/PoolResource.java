package io.szpool.pool.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.common.annotation.Blocking;
import io.szpool.events.PoolEvent.PoolScrubbed;
import io.szpool.events.Vocabulary.GrowthTrigger;
import io.szpool.pool.engine.PoolManager;
import io.szpool.pool.store.PoolRecord;
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
import java.time.Duration;
import java.util.ArrayList;
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
    private final ObjectMapper json;

    public PoolResource(PoolManager pools, ObjectMapper json) {
        this.pools = pools;
        this.json = json;
    }

    /** Body of {@code POST /pools}; absent fields take SPEC.md's defaults (6 wide, 1 GiB, 1). */
    public record CreateRequest(String name, Integer width, Long chunkSizeBytes, Integer vdevs) {}

    /** Body of {@code POST /pools/{name}/grow}; absent means one vdev. */
    public record GrowRequest(Integer vdevs) {}

    /** Body of {@code PUT /pools/{name}/policy}; absent fields stay as they are. */
    public record PolicyRequest(Boolean autoGrow, Integer thresholdPercent, Long maxSizeBytes) {}

    public record PoolList(List<PoolView> pools) {}

    /** Body of {@code POST /pools/{name}/freeze}; absent means 5000 ms. */
    public record FreezeRequest(Long timeoutMs) {}

    /** The chunks of one vdev, in column order. */
    public record FrozenVdev(int index, List<String> chunkIds) {}

    /** Answer of a freeze: from {@code frozenAt} on, the listed chunks hold a consistent pool. */
    public record FreezeAnswer(
            String pool, String poolId, String frozenAt, List<FrozenVdev> vdevs) {}

    public record ThawAnswer(String pool, long frozenMillis) {}

    private static final long MAX_FREEZE_MS = 60_000;

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

    /** Body of {@code POST /pools/{name}/import}; optional, {@code poolId} picks one of several. */
    public record ImportRequest(String poolId) {}

    /**
     * Imports a pool: from this host's record, or, with none (a restore on a fresh host), from the
     * labels of the attached chunks no pool here owns, rebuilding up to two missing columns per
     * vdev. The body is optional, so any content type (or none) is taken and read as JSON here.
     */
    @POST
    @Path("/{name}/import")
    @Consumes(MediaType.WILDCARD)
    public PoolView importPool(@PathParam("name") String name, String body) {
        ImportRequest request = optionalBody(body, ImportRequest.class, "{\"poolId\": \"...\"}");
        String poolId = request == null ? null : request.poolId();
        if (poolId != null && poolId.isBlank()) {
            throw ProblemException.badRequest("poolId must not be blank");
        }
        PoolManager.Imported imported = pools.importPool(name, poolId);
        return PoolView.of(imported.snapshot(), pools)
                .withRebuilt(
                        imported.rebuilt().stream()
                                .map(
                                        b ->
                                                new PoolView.Rebuilt(
                                                        b.vdev(),
                                                        b.column(),
                                                        b.chunkId(),
                                                        b.bytes()))
                                .toList());
    }

    /**
     * Commits the pool and holds its writes (reads go on) until thaw or {@code timeoutMs}, so that
     * sync-service can copy a consistent set of chunk files. The body is optional, so any content
     * type (or none) is taken and read as JSON here.
     */
    @POST
    @Path("/{name}/freeze")
    @Consumes(MediaType.WILDCARD)
    public FreezeAnswer freeze(@PathParam("name") String name, String body) {
        FreezeRequest request = optionalBody(body, FreezeRequest.class, "{\"timeoutMs\": 5000}");
        long timeoutMs =
                request == null || request.timeoutMs() == null ? 5000 : request.timeoutMs();
        if (timeoutMs < 1 || timeoutMs > MAX_FREEZE_MS) {
            throw ProblemException.badRequest(
                    "timeoutMs must be 1 to " + MAX_FREEZE_MS + ", was " + timeoutMs);
        }
        PoolManager.Frozen frozen = pools.freeze(name, Duration.ofMillis(timeoutMs));
        List<FrozenVdev> vdevs = new ArrayList<>();
        for (int v = 0; v < frozen.record().vdevs.size(); v++) {
            vdevs.add(
                    new FrozenVdev(
                            v,
                            frozen.record().vdevs.get(v).stream()
                                    .map(PoolRecord.ChunkRef::chunkId)
                                    .toList()));
        }
        return new FreezeAnswer(name, frozen.record().poolId, frozen.frozenAt().toString(), vdevs);
    }

    @POST
    @Path("/{name}/thaw")
    public ThawAnswer thaw(@PathParam("name") String name) {
        return new ThawAnswer(name, pools.thaw(name));
    }

    /**
     * An optional JSON body: null when absent or blank, 400 when it is not JSON like the example.
     */
    private <T> T optionalBody(String body, Class<T> type, String example) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            return json.readValue(body, type);
        } catch (JsonProcessingException e) {
            throw ProblemException.badRequest(
                    "the body must be JSON like " + example + ": " + e.getOriginalMessage());
        }
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
