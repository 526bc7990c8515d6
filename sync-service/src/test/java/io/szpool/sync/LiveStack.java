package io.szpool.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.crypto.KeySlot;
import io.szpool.crypto.MasterKey;
import io.szpool.nbd.NbdClient;
import io.szpool.raidz.Pool;
import io.szpool.sync.generation.TargetKeys;
import io.szpool.sync.source.DeviceServiceClient;
import io.szpool.sync.source.PoolServiceClient;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.ServiceProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * One host's real crypto-device-service and pool-service, run from their packaged jars on the real
 * broker (as e2e runs them), with a pool of four 64 MiB chunks; plus a second device service on a
 * restored data folder, from which the test imports the pool with the RAID-Z2 engine as
 * pool-service would.
 */
final class LiveStack implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long DEFAULT_CHUNK = 64L << 20;
    static final String PASSPHRASE = "live capture passphrase " + UUID.randomUUID();

    final Path dir;
    final String hostId = "live-" + UUID.randomUUID().toString().substring(0, 8);
    final Path passphraseFile;
    final ServiceProcess device;
    final ServiceProcess pools;
    final List<ServiceProcess> others = new ArrayList<>();
    String poolName;
    String poolId;
    URI volume;

    final long chunkSize;

    LiveStack(Path dir) throws IOException {
        this(dir, DEFAULT_CHUNK);
    }

    LiveStack(Path dir, long chunkSize) throws IOException {
        this.dir = dir;
        this.chunkSize = chunkSize;
        Files.createDirectories(dir);
        passphraseFile = dir.resolve("passphrase");
        Files.writeString(passphraseFile, PASSPHRASE + "\n");
        String kafka = KafkaBroker.shared().bootstrapServers();
        device =
                ServiceProcess.start(
                        "crypto-device-service",
                        "sync-live-device-" + hostId,
                        Map.of(
                                "kafka.bootstrap.servers",
                                kafka,
                                "szpool.host-id",
                                hostId,
                                "szpool.device.data-dir",
                                dir.resolve("device").toString(),
                                "szpool.device.nbd.port",
                                "0",
                                "szpool.device.passphrase-file",
                                passphraseFile.toString()));
        ServiceProcess p;
        try {
            p =
                    ServiceProcess.start(
                            "pool-service",
                            "sync-live-pool-" + hostId,
                            Map.of(
                                    "kafka.bootstrap.servers",
                                    kafka,
                                    "szpool.host-id",
                                    hostId,
                                    "szpool.pool.nbd.port",
                                    "0",
                                    "szpool.pool.data-dir",
                                    dir.resolve("pools").toString(),
                                    // Importing a pool it has no record of (a restore), it reads
                                    // the labels of this host's attached chunks.
                                    "szpool.pool.device-service-url",
                                    "http://127.0.0.1:" + device.port()));
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        pools = p;
    }

    /**
     * This host's sync-service, from its packaged jar, talking to this stack's
     * crypto-device-service and pool-service, with the stack's passphrase.
     */
    ServiceProcess startSync() {
        ServiceProcess sync =
                ServiceProcess.start(
                        "sync-service",
                        "sync-live-sync-" + hostId,
                        Map.of(
                                "kafka.bootstrap.servers",
                                KafkaBroker.shared().bootstrapServers(),
                                "szpool.host-id",
                                hostId,
                                "szpool.sync.data-dir",
                                dir.resolve("sync").toString(),
                                "szpool.sync.chunk-data-dir",
                                dir.resolve("device").toString(),
                                "szpool.sync.pool-service-url",
                                "http://127.0.0.1:" + pools.port(),
                                "szpool.sync.device-service-url",
                                "http://127.0.0.1:" + device.port(),
                                "szpool.sync.passphrase-file",
                                passphraseFile.toString(),
                                "szpool.sync.schedule.every",
                                "PT0S"));
        others.add(sync);
        return sync;
    }

    /** Fails the test's assumptions (skips) when the packaged services predate the capture API. */
    void requireCaptureApi() throws IOException {
        String poolApi = pools.get("/q/openapi").body();
        String deviceApi = device.get("/q/openapi").body();
        Assumptions.assumeTrue(
                poolApi.contains("/freeze") && deviceApi.contains("/snapshots"),
                "the packaged pool-service/crypto-device-service jars have no freeze/snapshot"
                        + " endpoints yet: package them from a tree that has them");
    }

    void createPool(int width) throws Exception {
        poolName = "live" + UUID.randomUUID().toString().substring(0, 8);
        JsonNode view;
        try {
            HttpResponse<String> r =
                    pools.postJson(
                            "/pools",
                            "{\"name\":\""
                                    + poolName
                                    + "\",\"width\":"
                                    + width
                                    + ",\"chunkSizeBytes\":"
                                    + chunkSize
                                    + ",\"vdevs\":1}");
            assertEquals(201, r.statusCode(), r.body());
            view = JSON.readTree(r.body());
        } catch (java.net.http.HttpTimeoutException slow) {
            // A create slower than the client's 30 s (a loaded machine) goes on in pool-service:
            // wait for the pool it is making rather than fail on the machine's speed.
            view = awaitImported();
        }
        // A bench fills the volume: auto-grow would add a vdev under the measurement.
        HttpResponse<String> policy =
                put(pools, "/pools/" + poolName + "/policy", "{\"autoGrow\":false}");
        assertEquals(200, policy.statusCode(), policy.body());
        poolId = view.get("poolId").asText();
        volume = URI.create(view.get("nbdExport").asText());
    }

    private JsonNode awaitImported() throws Exception {
        for (int i = 0; i < 600; i++) {
            HttpResponse<String> r = pools.get("/pools/" + poolName);
            if (r.statusCode() == 200) {
                JsonNode view = JSON.readTree(r.body());
                if ("imported".equals(view.path("state").asText())
                        && view.path("nbdExport").isTextual()) {
                    return view;
                }
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("pool " + poolName + " was not created within 10 minutes");
    }

    static HttpResponse<String> put(ServiceProcess service, String path, String json)
            throws IOException, InterruptedException {
        return java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + service.port() + path))
                                .header("Content-Type", "application/json")
                                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(json))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    NbdClient openVolume() throws IOException {
        return NbdClient.connect(volume.getHost(), volume.getPort(), poolName);
    }

    PoolServiceClient poolClient() {
        return new PoolServiceClient(
                URI.create("http://127.0.0.1:" + pools.port()), Duration.ofSeconds(30));
    }

    DeviceServiceClient deviceClient() {
        return new DeviceServiceClient(
                URI.create("http://127.0.0.1:" + device.port()), Duration.ofSeconds(30));
    }

    /**
     * The target keys of the pool, from its key slot and the passphrase, as a restore gets them.
     */
    TargetKeys targetKeys() throws Exception {
        byte[] slot = deviceClient().keySlot(poolId);
        try (MasterKey master =
                KeySlot.fromBytes(slot).unlock(PASSPHRASE.toCharArray()).masterKey()) {
            return TargetKeys.of(master);
        }
    }

    /**
     * A fresh crypto-device-service on a restored data folder (another host id): attaches the
     * chunks it holds and answers their device clients.
     */
    List<NbdClient> attachRestored(Path restored, List<String> chunkIds) throws Exception {
        ServiceProcess b =
                ServiceProcess.start(
                        "crypto-device-service",
                        "sync-live-restored-" + hostId + "-" + others.size(),
                        Map.of(
                                "kafka.bootstrap.servers",
                                KafkaBroker.shared().bootstrapServers(),
                                "szpool.host-id",
                                hostId + "-restored-" + others.size(),
                                "szpool.device.data-dir",
                                restored.toString(),
                                "szpool.device.nbd.port",
                                "0",
                                "szpool.device.passphrase-file",
                                passphraseFile.toString()));
        others.add(b);
        List<NbdClient> devices = new ArrayList<>();
        for (String id : chunkIds) {
            HttpResponse<String> r = b.postJson("/chunks/" + id + "/attach", "{}");
            assertEquals(200, r.statusCode(), r.body());
            URI address = URI.create(JSON.readTree(r.body()).get("deviceAddress").asText());
            devices.add(NbdClient.connect(address.getHost(), address.getPort(), id));
        }
        return devices;
    }

    static Pool importPool(List<NbdClient> devices) throws IOException {
        return Pool.importFrom(devices);
    }

    @Override
    public void close() {
        others.forEach(ServiceProcess::close);
        pools.close();
        device.close();
    }
}
