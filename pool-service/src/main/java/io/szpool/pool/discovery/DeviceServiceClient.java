package io.szpool.pool.discovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.pool.config.PoolConfig;
import io.szpool.pool.driver.ChunkCandidate;
import io.szpool.service.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks this host's crypto-device-service ({@code GET /chunks}) which chunks it has attached: the
 * devices an import of a pool this host has no record of is assembled from. Everything else
 * pool-service learns from the device service comes as events; this is the one question asked.
 */
@ApplicationScoped
public class DeviceServiceClient {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final PoolConfig config;
    private final ObjectMapper json;

    public DeviceServiceClient(PoolConfig config, ObjectMapper json) {
        this.config = config;
        this.json = json;
    }

    /** Every chunk of this host whose device is attached, with its pool id and restore state. */
    public List<ChunkCandidate> attachedChunks() {
        String base = config.deviceServiceUrl().replaceFirst("/+$", "");
        HttpResponse<String> answer;
        try {
            answer =
                    http.send(
                            HttpRequest.newBuilder(URI.create(base + "/chunks"))
                                    .timeout(TIMEOUT)
                                    .header("Accept", "application/json")
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw unavailable(base, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(base, "interrupted");
        }
        if (answer.statusCode() != 200) {
            throw new ProblemException(
                    502,
                    "Bad Gateway",
                    "crypto-device-service at "
                            + base
                            + " answered GET /chunks with "
                            + answer.statusCode());
        }
        List<ChunkCandidate> chunks = new ArrayList<>();
        try {
            for (JsonNode c : json.readTree(answer.body()).path("chunks")) {
                if (!c.path("attached").asBoolean() || c.path("deviceAddress").isNull()) {
                    continue;
                }
                chunks.add(
                        new ChunkCandidate(
                                c.path("chunkId").asText(),
                                c.path("poolId").asText(),
                                c.path("sizeBytes").asLong(),
                                c.path("deviceAddress").asText(),
                                c.path("restored").isTextual()
                                        ? c.path("restored").asText()
                                        : null));
            }
        } catch (IOException e) {
            throw new ProblemException(
                    502,
                    "Bad Gateway",
                    "crypto-device-service at "
                            + base
                            + " answered GET /chunks with no chunk list");
        }
        return chunks;
    }

    private static ProblemException unavailable(String base, String why) {
        return new ProblemException(
                503,
                "Service Unavailable",
                "crypto-device-service at "
                        + base
                        + " (szpool.pool.device-service-url) does not answer: "
                        + why);
    }
}
