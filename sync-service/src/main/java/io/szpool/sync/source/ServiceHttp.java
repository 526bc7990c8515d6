package io.szpool.sync.source;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The HTTP calls sync-service makes to this host's pool-service and crypto-device-service: JSON in,
 * JSON or a byte stream out, and a problem detail turned into an exception that keeps its status
 * and detail (never the body of a key endpoint: those are read as bytes, not echoed).
 */
public final class ServiceHttp {
    static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** A call answered with a status the caller did not expect. */
    public static final class CallFailedException extends IOException {
        private final int status;
        private final String detail;

        CallFailedException(String what, int status, String detail) {
            super(what + " answered " + status + (detail.isEmpty() ? "" : ": " + detail));
            this.status = status;
            this.detail = detail;
        }

        /** The problem's detail as the service wrote it, or empty. */
        public String detail() {
            return detail;
        }

        public int status() {
            return status;
        }
    }

    /** Expected status of a call whose service may answer 200 or 201 (a new resource). */
    static final int ANY_2XX = -1;

    private final HttpClient http;
    private final URI base;
    private final Duration timeout;

    ServiceHttp(URI base, Duration timeout) {
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        this.base = base;
        this.timeout = timeout;
    }

    URI base() {
        return base;
    }

    JsonNode get(String path, int expected) throws IOException, InterruptedException {
        return json(send(request(path).GET(), "GET " + path, expected));
    }

    JsonNode post(String path, String json, int expected) throws IOException, InterruptedException {
        HttpRequest.Builder r =
                request(path)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json));
        return json(send(r, "POST " + path, expected));
    }

    void delete(String path, int expected) throws IOException, InterruptedException {
        send(request(path).DELETE(), "DELETE " + path, expected);
    }

    byte[] bytes(String path) throws IOException, InterruptedException {
        return send(request(path).GET(), "GET " + path, 200);
    }

    /** A streamed GET; the caller closes the stream. */
    InputStream stream(String path) throws IOException, InterruptedException {
        HttpResponse<InputStream> r =
                http.send(
                        HttpRequest.newBuilder(base.resolve(path)).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            byte[] body;
            try (InputStream in = r.body()) {
                body = in.readNBytes(4096);
            }
            throw new CallFailedException("GET " + path, r.statusCode(), detail(body));
        }
        return r.body();
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout);
    }

    private byte[] send(HttpRequest.Builder request, String what, int expected)
            throws IOException, InterruptedException {
        HttpResponse<byte[]> r =
                http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        boolean ok = expected == ANY_2XX ? r.statusCode() / 100 == 2 : r.statusCode() == expected;
        if (!ok) {
            throw new CallFailedException(what, r.statusCode(), detail(r.body()));
        }
        return r.body();
    }

    private static JsonNode json(byte[] body) throws IOException {
        return body.length == 0 ? JSON.nullNode() : JSON.readTree(body);
    }

    /** The {@code detail} of a problem answer, or nothing. */
    private static String detail(byte[] body) {
        try {
            return JSON.readTree(body).path("detail").asText("");
        } catch (IOException notJson) {
            return "";
        }
    }
}
