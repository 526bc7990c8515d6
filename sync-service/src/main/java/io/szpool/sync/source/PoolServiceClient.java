package io.szpool.sync.source;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** pool-service's REST as sync-service uses it: find a pool, freeze it, thaw it. */
public final class PoolServiceClient {
    private final ServiceHttp http;

    public PoolServiceClient(URI base, Duration timeout) {
        this.http = new ServiceHttp(base, timeout);
    }

    /** A pool as pool-service lists it. */
    public record PoolInfo(String name, String poolId, String state) {
        public boolean imported() {
            return "imported".equals(state);
        }
    }

    /** What a freeze answers: the pool's chunks by vdev, in column order. */
    public record Frozen(String pool, String poolId, String frozenAt, List<List<String>> vdevs) {}

    /** Every pool pool-service has on this host. */
    public List<PoolInfo> list() throws IOException, InterruptedException {
        List<PoolInfo> out = new ArrayList<>();
        for (JsonNode p : http.get("/pools", 200).path("pools")) {
            out.add(
                    new PoolInfo(
                            p.path("name").asText(),
                            p.path("poolId").asText(),
                            p.path("state").asText()));
        }
        return out;
    }

    /** The pool whose name or id is {@code nameOrId}, if pool-service has one. */
    public Optional<PoolInfo> find(String nameOrId) throws IOException, InterruptedException {
        return list().stream()
                .filter(p -> nameOrId.equals(p.name()) || nameOrId.equals(p.poolId()))
                .findFirst();
    }

    /**
     * Commits the pool and holds its writes until {@link #thaw} or {@code timeout}, whichever comes
     * first.
     */
    public Frozen freeze(String pool, Duration timeout) throws IOException, InterruptedException {
        JsonNode f =
                http.post(
                        "/pools/" + path(pool) + "/freeze",
                        "{\"timeoutMs\":" + timeout.toMillis() + "}",
                        200);
        List<List<String>> vdevs = new ArrayList<>();
        for (JsonNode v : f.path("vdevs")) {
            List<String> ids = new ArrayList<>();
            v.path("chunkIds").forEach(c -> ids.add(c.asText()));
            vdevs.add(List.copyOf(ids));
        }
        return new Frozen(
                f.path("pool").asText(pool),
                f.path("poolId").asText(),
                f.path("frozenAt").asText(),
                List.copyOf(vdevs));
    }

    /** Lets writes go on; answers how long pool-service held them. */
    public long thaw(String pool) throws IOException, InterruptedException {
        return http.post("/pools/" + path(pool) + "/thaw", "{}", 200)
                .path("frozenMillis")
                .asLong(-1);
    }

    /**
     * A pool as pool-service shows it after an import or a scrub: its health and, per vdev, the
     * chunks in column order with their checksum error counts.
     */
    public record PoolState(
            String name, String poolId, String state, String health, List<Vdev> vdevs) {
        public record Vdev(int index, String health, List<Device> devices) {}

        public record Device(
                int column,
                String chunkId,
                String state,
                long readErrors,
                long writeErrors,
                long checksumErrors) {}

        /** The chunks of each vdev in column order (a device with no chunk id is left out). */
        public List<List<String>> chunkIds() {
            List<List<String>> out = new ArrayList<>();
            for (Vdev v : vdevs) {
                List<String> ids = new ArrayList<>();
                v.devices().stream()
                        .filter(d -> d.chunkId() != null)
                        .forEach(d -> ids.add(d.chunkId()));
                out.add(List.copyOf(ids));
            }
            return List.copyOf(out);
        }
    }

    /** One column pool-service rebuilt into a fresh chunk when it imported a restored pool. */
    public record Rebuilt(int vdev, int column, String chunkId, long bytes) {}

    public record Imported(PoolState pool, List<Rebuilt> rebuilt) {}

    /** What a scrub read and repaired (bytes). */
    public record Scrubbed(long bytesScanned, long bytesRepaired, long bytesUnrecoverable) {}

    /** The pool named {@code name}, as pool-service shows it now. */
    public PoolState show(String name) throws IOException, InterruptedException {
        return state(http.get("/pools/" + path(name), 200));
    }

    /**
     * Has pool-service import a pool it may have no record of, from the labels of this host's
     * attached chunks, rebuilding up to two bad columns per vdev.
     */
    public Imported importPool(String name, String poolId)
            throws IOException, InterruptedException {
        JsonNode v =
                http.post(
                        "/pools/" + path(name) + "/import",
                        ServiceHttp.JSON.writeValueAsString(java.util.Map.of("poolId", poolId)),
                        ServiceHttp.ANY_2XX);
        List<Rebuilt> rebuilt = new ArrayList<>();
        for (JsonNode r : v.path("rebuilt")) {
            rebuilt.add(
                    new Rebuilt(
                            r.path("vdev").asInt(),
                            r.path("column").asInt(),
                            r.path("chunkId").asText(null),
                            r.path("bytes").asLong()));
        }
        return new Imported(state(v), List.copyOf(rebuilt));
    }

    /** Reads every allocated block of the pool and repairs what fails its checksum. */
    public Scrubbed scrub(String name) throws IOException, InterruptedException {
        JsonNode s = http.post("/pools/" + path(name) + "/scrub", "{}", 200);
        return new Scrubbed(
                s.path("bytesScanned").asLong(),
                s.path("errorsRepaired").asLong(),
                s.path("errorsUnrecoverable").asLong());
    }

    private static PoolState state(JsonNode v) {
        List<PoolState.Vdev> vdevs = new ArrayList<>();
        for (JsonNode vdev : v.path("vdevs")) {
            List<PoolState.Device> devices = new ArrayList<>();
            for (JsonNode d : vdev.path("devices")) {
                devices.add(
                        new PoolState.Device(
                                d.path("column").asInt(),
                                d.path("chunkId").isTextual() ? d.path("chunkId").asText() : null,
                                d.path("state").asText(null),
                                d.path("readErrors").asLong(),
                                d.path("writeErrors").asLong(),
                                d.path("checksumErrors").asLong()));
            }
            vdevs.add(
                    new PoolState.Vdev(
                            vdev.path("index").asInt(vdevs.size()),
                            vdev.path("health").asText(null),
                            List.copyOf(devices)));
        }
        return new PoolState(
                v.path("name").asText(null),
                v.path("poolId").asText(null),
                v.path("state").asText(null),
                v.path("health").asText(null),
                List.copyOf(vdevs));
    }

    private static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
