package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A small client of one service's REST API. Its problem-details errors become one-line CLI errors
 * whose exit code follows the HTTP status (400, 404, 409).
 */
final class Rest {
    static final ObjectMapper JSON = new ObjectMapper();
    private final String service;
    private final String flag;
    private final URI base;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The client of {@code service} at {@code base}, which the option {@code flag} sets. */
    Rest(String service, String flag, URI base) {
        this.service = service;
        this.flag = flag;
        this.base = base;
        // Checked before any request: a bad address is a typo to fix, not an unreachable service.
        if (base.getScheme() == null
                || !List.of("http", "https").contains(base.getScheme().toLowerCase(Locale.ROOT))
                || base.getHost() == null) {
            throw new CliException(
                    "the "
                            + service
                            + " address '"
                            + base
                            + "' is not an http:// or https:// address with a host (set by "
                            + flag
                            + ", its environment variable or the config file)",
                    CliException.BAD_INPUT);
        }
    }

    JsonNode get(String path, Map<String, String> query) {
        return send(HttpRequest.newBuilder(uri(path, query)).GET(), Duration.ofSeconds(30));
    }

    JsonNode get(String path) {
        return get(path, Map.of());
    }

    /** A POST that may run long (a pool create, a sync): no read timeout below an hour. */
    JsonNode post(String path, Object body) {
        return send(
                HttpRequest.newBuilder(uri(path, Map.of()))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json(body))),
                Duration.ofHours(6));
    }

    JsonNode put(String path, Object body) {
        return send(
                HttpRequest.newBuilder(uri(path, Map.of()))
                        .header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(json(body))),
                Duration.ofSeconds(30));
    }

    private static String json(Object body) {
        try {
            return body == null ? "{}" : JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private URI uri(String path, Map<String, String> query) {
        StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
        query.forEach(
                (k, v) -> {
                    if (v != null) {
                        q.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
                    }
                });
        return base.resolve(path + q);
    }

    private JsonNode send(HttpRequest.Builder request, Duration timeout) {
        HttpResponse<String> response;
        try {
            response =
                    http.send(
                            request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new CliException(
                    "cannot reach the "
                            + service
                            + " at "
                            + base
                            + " (is szpool up? see SZPOOL_CONFIG or "
                            + flag
                            + ")",
                    CliException.UNREACHABLE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
        JsonNode body;
        try {
            body =
                    response.body().isBlank()
                            ? NullNode.getInstance()
                            : JSON.readTree(response.body());
        } catch (IOException e) {
            throw new CliException(
                    "the " + service + " answered " + response.statusCode() + " without JSON");
        }
        int status = response.statusCode();
        if (status >= 400) {
            JsonNode detail = body.get("detail");
            JsonNode title = body.get("title");
            String text =
                    detail != null && !detail.isNull()
                            ? detail.asText()
                            : title != null ? title.asText() : "HTTP " + status;
            throw new CliException(
                    text + " (" + service + ", HTTP " + status + ")", exitCodeOf(status));
        }
        return body;
    }

    static int exitCodeOf(int status) {
        return switch (status) {
            case 400, 422 -> CliException.BAD_INPUT;
            case 404 -> CliException.NOT_FOUND;
            case 409 -> CliException.CONFLICT;
            default -> CliException.FAILED;
        };
    }
}
