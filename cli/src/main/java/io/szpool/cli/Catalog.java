package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A small client of a service's REST API; its problem-details errors become one-line CLI errors.
 */
final class Catalog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    Catalog(URI base) {
        this.base = base;
    }

    JsonNode get(String path, Map<String, String> query) {
        StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
        query.forEach(
                (k, v) -> {
                    if (v != null) {
                        q.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
                    }
                });
        URI uri = base.resolve(path + q);
        HttpResponse<String> response;
        try {
            response =
                    http.send(
                            HttpRequest.newBuilder(uri)
                                    .timeout(Duration.ofSeconds(30))
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new CliException("cannot reach " + base + ": " + describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new CliException(uri + " answered " + response.statusCode() + " without JSON");
        }
        if (response.statusCode() >= 400) {
            JsonNode detail = body.get("detail");
            throw new CliException(
                    (detail != null ? detail.asText() : "HTTP " + response.statusCode())
                            + " ("
                            + response.statusCode()
                            + " from "
                            + base
                            + ")");
        }
        return body;
    }

    private static String describe(IOException e) {
        return e.getMessage() != null
                ? e.getMessage()
                : "connection refused (is the service running?)";
    }
}
