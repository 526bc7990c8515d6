package io.szpool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.e2e.SzpoolRun.Result;
import io.szpool.testing.ProjectLayout;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Two hosts on one machine with the szpool command: host A runs the whole stack, host B joins its
 * broker with `up --join`. Each creates a pool; the catalog shows both hosts with their pools and
 * chunks, and no host executed the other's commands (each data folder holds only its own chunks).
 */
class FleetIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path WORK = ProjectLayout.target().resolve("e2e-fleet");
    private static SzpoolRun hostA;
    private static SzpoolRun hostB;

    @AfterAll
    static void stopBoth() {
        // B first: it needs A's broker to stop cleanly.
        for (SzpoolRun h : new SzpoolRun[] {hostB, hostA}) {
            if (h != null) {
                h.run("down", "--data", h.data().toString());
            }
        }
    }

    @Test
    void twoHostsOneCatalogEachRunsOnlyItsOwnCommands() throws Exception {
        ScenarioIT.deleteTree(WORK);
        int offsetA = SzpoolRun.freePortOffset(500);
        int offsetB = SzpoolRun.freePortOffset(offsetA + 20);
        hostA = new SzpoolRun(WORK.resolve("host-a"), "fleet-host-a");
        hostB = new SzpoolRun(WORK.resolve("host-b"), "fleet-host-b");
        hostA.ok(
                "up",
                "--data",
                hostA.data().toString(),
                "--host-id",
                "fleet-a",
                "--no-pool",
                "--no-sync",
                "--port-offset",
                "" + offsetA,
                "--detach");
        String broker = "127.0.0.1:" + (19092 + offsetA);
        Result joined =
                hostB.ok(
                        "up",
                        "--data",
                        hostB.data().toString(),
                        "--host-id",
                        "fleet-b",
                        "--join",
                        broker,
                        "--no-pool",
                        "--no-sync",
                        "--port-offset",
                        "" + offsetB,
                        "--detach");
        assertTrue(joined.out().contains("fleet:       Kafka " + broker), joined.out());
        assertTrue(!Files.exists(hostB.data().resolve("kafka")), "a joining host runs no broker");

        hostA.ok("pool", "create", "alpha", "--width", "4", "--chunk-size", "64M");
        hostB.ok("pool", "create", "beta", "--width", "5", "--chunk-size", "64M");
        // The same name on the other host is that host's own pool, not a conflict.
        hostB.ok("pool", "create", "alpha", "--width", "4", "--chunk-size", "64M");

        Set<String> chunksA = chunkFiles(hostA);
        Set<String> chunksB = chunkFiles(hostB);
        assertEquals(4, chunksA.size(), "host A holds only its pool's chunks: " + chunksA);
        assertEquals(9, chunksB.size(), "host B holds only its pools' chunks: " + chunksB);

        // The catalog (host A's) sees both hosts, their pools and every chunk, with the right host.
        String catalog = "http://127.0.0.1:" + (8080 + offsetA);
        JsonNode chunks = null;
        for (int i = 0; i < 120; i++) {
            chunks = JSON.readTree(hostA.ok("chunk", "list", "--json").out());
            if (chunks.size() >= 13) {
                break;
            }
            Thread.sleep(1000); // the catalog follows the topics
        }
        assertEquals(13, chunks.size(), chunks.toString());
        for (JsonNode c : chunks) {
            String host = c.path("hostId").asText();
            Set<String> own = host.equals("fleet-a") ? chunksA : chunksB;
            assertTrue(own.contains(c.path("chunkId").asText()), c + " lives on " + host);
        }
        JsonNode hosts = get(catalog + "/api/hosts");
        Set<String> hostIds = new HashSet<>();
        hosts.forEach(h -> hostIds.add(h.path("hostId").asText()));
        assertTrue(hostIds.containsAll(Set.of("fleet-a", "fleet-b")), hosts.toString());
        JsonNode pools = get(catalog + "/api/pools");
        Set<String> poolsByHost = new HashSet<>();
        pools.forEach(
                p -> poolsByHost.add(p.path("hostId").asText() + "/" + p.path("name").asText()));
        assertTrue(
                poolsByHost.containsAll(Set.of("fleet-a/alpha", "fleet-b/beta", "fleet-b/alpha")),
                pools.toString());
        HttpResponse<String> dashboard =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create(catalog + "/")).build(),
                                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, dashboard.statusCode());

        // Growing B's alpha is executed by B alone.
        hostB.ok("pool", "grow", "alpha");
        assertEquals(4, chunkFiles(hostA).size(), "host A provisioned nothing for B's grow");
        assertEquals(13, chunkFiles(hostB).size());
        Result unknown = hostA.run("pool", "status", "beta");
        assertEquals(4, unknown.exit(), "beta is B's pool, not A's: " + unknown.both());
    }

    private static Set<String> chunkFiles(SzpoolRun host) throws Exception {
        Path dir = host.data().resolve("crypto-device/chunks");
        Set<String> ids = new HashSet<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                files.forEach(f -> ids.add(f.getFileName().toString()));
            }
        }
        return ids;
    }

    private static JsonNode get(String url) throws Exception {
        HttpResponse<String> r =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create(url)).build(),
                                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return JSON.readTree(r.body());
    }
}
