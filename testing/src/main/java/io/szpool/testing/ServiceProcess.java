package io.szpool.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One packaged service run as a user runs it: {@code java -jar quarkus-run.jar}, with its log. */
public final class ServiceProcess implements AutoCloseable {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final Process process;
    private final int port;
    private final Path log;

    private ServiceProcess(String name, Process process, int port, Path log) {
        this.name = name;
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts a module's packaged jar with {@code properties} and waits until it is ready. The JVM
     * gets a 256 MiB heap, which is plenty for every service in the tests.
     */
    public static ServiceProcess start(
            String module, String instance, Map<String, String> properties) {
        return start(module, instance, properties, List.of("-Xmx256m"));
    }

    /**
     * As {@link #start(String, String, Map)}, with these JVM options instead of the default heap
     * (e.g. {@code -Xmx1g}, or {@code -XX:StartFlightRecording=...} to profile it).
     */
    public static ServiceProcess start(
            String module, String instance, Map<String, String> properties, List<String> jvm) {
        Path jar =
                ProjectLayout.root().resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(
                    jar + " is missing: package the services first (./mvnw verify does)");
        }
        int port = Ports.free();
        Path log = ProjectLayout.target().resolve("e2e-logs").resolve(instance + ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvm);
        command.add("-Dquarkus.http.port=" + port);
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar.toString());
        try {
            Files.createDirectories(log.getParent());
            Process process =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(log.toFile())
                            .start();
            ServiceProcess service = new ServiceProcess(instance, process, port, log);
            // Generous: a packaged service starts in ~10 s on a quiet machine, but took over 90 s
            // while other builds loaded both cores; a slow start is not what these tests examine.
            service.awaitReady(Duration.ofSeconds(240));
            return service;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + instance, e);
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        name + " exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> r = get("/q/health/ready");
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            sleep(250);
        }
        close();
        throw new IllegalStateException(name + " not ready within " + timeout + "; see " + log);
    }

    public HttpResponse<String> get(String path) throws IOException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    public HttpResponse<String> postJson(String path, String json) throws IOException {
        return send(
                HttpRequest.newBuilder(uri(path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException {
        try {
            return HTTP.send(
                    request.timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public Path log() {
        return log;
    }

    /** The HTTP port the service listens on (127.0.0.1). */
    public int port() {
        return port;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
