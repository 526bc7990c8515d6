package io.szpool.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.nbd.NbdClient;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.ProjectLayout;
import io.szpool.testing.ServiceProcess;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * crypto-device-service and pool-service of one test host as packaged processes on the real broker,
 * with their data folders kept across restarts: what the *IT tests of pool-service stop, damage,
 * kill and start again.
 */
final class PoolServices implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long MIB = 1L << 20;

    final String host;
    final Path dir;
    private final Path passphrase;
    private final String sagaTimeout;
    private int runs;
    ServiceProcess device;
    ServiceProcess pool;

    PoolServices(String prefix, String sagaTimeout) throws IOException {
        this.host = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        this.dir = ProjectLayout.target().resolve(prefix + "-it").resolve(host);
        this.sagaTimeout = sagaTimeout;
        Files.createDirectories(dir);
        passphrase = dir.resolve("passphrase");
        Files.writeString(passphrase, "passphrase of " + host + "\n");
    }

    void startDevice() {
        device =
                startDeviceService(
                        host + "-device-" + ++runs, host, dir.resolve("device"), passphrase);
    }

    /**
     * A packaged crypto-device-service of {@code host} on the shared broker, NBD on a free port.
     */
    static ServiceProcess startDeviceService(
            String instance, String host, Path dataDir, Path passphrase) {
        return ServiceProcess.start(
                "crypto-device-service",
                instance,
                Map.of(
                        "kafka.bootstrap.servers", KafkaBroker.shared().bootstrapServers(),
                        "szpool.host-id", host,
                        "szpool.device.data-dir", dataDir.toString(),
                        "szpool.device.nbd.port", "0",
                        "szpool.device.passphrase-file", passphrase.toString()));
    }

    /** More pool-service properties for the next start (a test's own policy). */
    final Map<String, String> poolProperties = new java.util.HashMap<>();

    void startPool() {
        Map<String, String> properties = new java.util.HashMap<>(poolProperties);
        properties.putAll(
                Map.of(
                        "kafka.bootstrap.servers",
                        KafkaBroker.shared().bootstrapServers(),
                        "szpool.host-id",
                        host,
                        "szpool.pool.data-dir",
                        poolDataDir().toString(),
                        "szpool.pool.nbd.port",
                        "0",
                        "szpool.pool.saga-timeout",
                        sagaTimeout,
                        "szpool.pool.device-service-url",
                        device == null
                                ? "http://127.0.0.1:8082"
                                : "http://127.0.0.1:" + device.port()));
        pool = ServiceProcess.start("pool-service", host + "-pool-" + ++runs, properties);
    }

    /** The operator's passphrase of another host: a restore needs the pool's passphrase. */
    void usePassphraseOf(PoolServices other) throws IOException {
        Files.copy(other.passphrase, passphrase, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    Path deviceDataDir() {
        return dir.resolve("device");
    }

    void start() {
        startDevice();
        startPool();
    }

    /** Stops both services the way an operator does (SIGTERM). */
    void stop() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
        if (device != null) {
            device.close();
            device = null;
        }
    }

    Path poolDataDir() {
        return dir.resolve("pool");
    }

    /** A chunk's encrypted file, where crypto-device-service keeps it. */
    Path chunkFile(String chunkId) {
        return dir.resolve("device").resolve("chunks").resolve(chunkId);
    }

    /**
     * kill -9 of the pool-service process this test started: found among this JVM's descendants by
     * its data folder, so nothing else on the machine is touched.
     */
    void killPool() {
        String marker = poolDataDir().toString();
        List<ProcessHandle> victims =
                ProcessHandle.current()
                        .descendants()
                        .filter(
                                p ->
                                        p.info()
                                                .commandLine()
                                                .map(c -> c.contains(marker))
                                                .orElse(false))
                        .toList();
        assertEquals(1, victims.size(), "one pool-service runs with " + marker);
        victims.get(0).destroyForcibly();
        victims.get(0).onExit().join();
        pool.close(); // reaps the process handle; it is gone already
        pool = null;
    }

    /**
     * Creates a pool of one 6-wide vdev. When the answer takes longer than the HTTP client waits (a
     * loaded machine), the saga goes on in the service: wait for the pool to serve instead.
     */
    JsonNode create(String name, long chunkSizeBytes) throws Exception {
        String body =
                "{\"name\":\"" + name + "\",\"width\":6,\"chunkSizeBytes\":" + chunkSizeBytes + "}";
        try {
            var answer = pool.postJson("/pools", body);
            assertEquals(201, answer.statusCode(), answer.body());
            return JSON.readTree(answer.body());
        } catch (java.net.http.HttpTimeoutException slow) {
            return awaitServing(name);
        }
    }

    JsonNode get(String path) {
        return get(pool, path);
    }

    static JsonNode get(ServiceProcess service, String path) {
        try {
            return JSON.readTree(service.get(path).body());
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    JsonNode post(String path, String json, int status) throws IOException {
        var answer = pool.postJson(path, json);
        assertEquals(status, answer.statusCode(), answer.body());
        return JSON.readTree(answer.body());
    }

    /** Waits until the pool serves its volume again (re-imported after a restart). */
    JsonNode awaitServing(String name) throws InterruptedException {
        awaitTrue(
                () ->
                        !get("/pools/" + name).path("nbdExport").isMissingNode()
                                && !get("/pools/" + name).path("nbdExport").isNull(),
                "pool " + name + " serves its volume");
        return get("/pools/" + name);
    }

    /** The pool's chunk ids in vdev 0, by column, as pool-service reports them. */
    List<String> columns(String name) {
        List<String> ids = new ArrayList<>();
        for (JsonNode d : get("/pools/" + name).path("vdevs").get(0).path("devices")) {
            ids.add(d.path("chunkId").asText());
        }
        return ids;
    }

    JsonNode device(String name, String chunkId) {
        for (JsonNode d : get("/pools/" + name).path("vdevs").get(0).path("devices")) {
            if (d.path("chunkId").asText().equals(chunkId)) {
                return d;
            }
        }
        throw new AssertionError(
                "chunk " + chunkId + " not in pool " + name + ": " + get("/pools/" + name));
    }

    String exportUri(String name) {
        return get("/pools/" + name).path("nbdExport").asText();
    }

    NbdClient volume(String name) throws IOException {
        URI export = URI.create(exportUri(name));
        return NbdClient.connect(export.getHost(), export.getPort(), name);
    }

    static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("not within 180 s: " + what);
    }

    @Override
    public void close() {
        stop();
    }
}
