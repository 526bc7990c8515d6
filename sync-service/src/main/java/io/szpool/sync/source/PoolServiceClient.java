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

    private static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
