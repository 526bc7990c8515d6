package io.szpool.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.events.CloudEvent;
import io.szpool.events.PoolEvent.PoolHealthChanged;
import io.szpool.events.Topics;
import io.szpool.nbd.NbdClient;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.ProjectLayout;
import io.szpool.testing.ServiceProcess;
import io.szpool.testing.TopicReader;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Restarts of either service, with the packaged jars as a user runs them: a pool comes back after
 * pool-service and crypto-device-service restart (the devices at new addresses); a create whose
 * chunks never come rolls back after the saga timeout and its late chunks are destroyed; a create
 * interrupted by killing pool-service (SIGKILL) finishes (or cleanly rolls back) after the restart.
 */
class PoolRestartIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MIB = 1 << 20;
    private static final String HOST = "restart-" + UUID.randomUUID().toString().substring(0, 8);
    private final Path dir = ProjectLayout.target().resolve("pool-restart-it").resolve(HOST);
    private ServiceProcess device;
    private ServiceProcess pool;

    @AfterEach
    void stopAll() {
        for (ServiceProcess p : new ServiceProcess[] {pool, device}) {
            if (p != null) {
                p.close();
            }
        }
    }

    @Test
    void poolsSurviveRestartsAndSagasFinishOrRollBack() throws Exception {
        Files.createDirectories(dir);
        Path passphrase = dir.resolve("passphrase");
        Files.writeString(passphrase, "restart passphrase\n");
        device = startDevice(passphrase, 1);
        pool = startPool(1);

        // A pool with data, flushed.
        HttpResponse<String> created = pool.postJson("/pools", body("keep"));
        assertEquals(201, created.statusCode(), created.body());
        byte[] data = new byte[8 * MIB];
        new Random(7).nextBytes(data);
        try (NbdClient volume = volume("keep")) {
            volume.write(0, ByteBuffer.wrap(data), false);
            volume.flush();
        }

        // No device service: the create times out and rolls back.
        device.close();
        device = null;
        HttpResponse<String> late = pool.postJson("/pools", body("late"));
        assertEquals(504, late.statusCode(), late.body());
        assertTrue(late.body().contains("rolled back"), late.body());
        String latePoolId = failureNote("late").poolId();

        // Still no device service: pool-service is killed (SIGKILL) in the middle of a create.
        CompletableFuture<HttpResponse<String>> pending =
                CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                return pool.postJson("/pools", body("resumed"));
                            } catch (Exception e) {
                                return null;
                            }
                        });
        awaitTrue(
                () -> get(pool, "/pools/resumed").path("saga").asText().equals("create"),
                "the create saga of 'resumed' is saved");
        String resumedPoolId = get(pool, "/pools/resumed").path("poolId").asText();
        killHard(dir.resolve("pool").toString());
        pending.join();
        pool.close();

        // Both come back; the device service serves the chunks at new addresses.
        device = startDevice(passphrase, 2);
        pool = startPool(2);
        awaitTrue(
                () -> get(pool, "/pools/keep").path("health").asText().equals("ONLINE"),
                "'keep' re-imported and ONLINE");
        try (NbdClient volume = volume("keep")) {
            byte[] back = new byte[data.length];
            volume.read(0, ByteBuffer.wrap(back));
            assertArrayEquals(data, back);
        }
        // The interrupted create ends one of the two clean ways: it finished (usually), or it
        // rolled back because the device service, busy restarting, was slower than the timeout.
        awaitTrue(
                () -> {
                    JsonNode r = get(pool, "/pools/resumed");
                    boolean finished =
                            r.path("state").asText().equals("imported")
                                    && r.path("health").asText().equals("ONLINE")
                                    && r.path("vdevs").get(0).path("devices").size() == 6;
                    boolean rolledBack =
                            r.path("status").asInt() == 404
                                    && get(device, "/chunks?pool=" + resumedPoolId)
                                                    .path("chunks")
                                                    .size()
                                            == 0;
                    return finished || rolledBack;
                },
                "the interrupted create of 'resumed' finished or rolled back after the restart");
        // The rolled-back pool's chunks, provisioned after its timeout, are destroyed.
        awaitTrue(
                () -> get(device, "/chunks?pool=" + latePoolId).path("chunks").size() == 0,
                "no chunk of the rolled-back pool is left");
    }

    private ServiceProcess startDevice(Path passphrase, int run) {
        return ServiceProcess.start(
                "crypto-device-service",
                "restart-device-" + HOST + "-" + run,
                Map.of(
                        "kafka.bootstrap.servers", KafkaBroker.shared().bootstrapServers(),
                        "szpool.host-id", HOST,
                        "szpool.device.data-dir", dir.resolve("device").toString(),
                        "szpool.device.nbd.port", "0",
                        "szpool.device.passphrase-file", passphrase.toString()));
    }

    private ServiceProcess startPool(int run) {
        return ServiceProcess.start(
                "pool-service",
                "restart-pool-" + HOST + "-" + run,
                Map.of(
                        "kafka.bootstrap.servers",
                        KafkaBroker.shared().bootstrapServers(),
                        "szpool.host-id",
                        HOST,
                        "szpool.pool.data-dir",
                        dir.resolve("pool").toString(),
                        "szpool.pool.nbd.port",
                        "0",
                        "szpool.pool.saga-timeout",
                        "15s"));
    }

    /** kill -9 of the service process whose command line names {@code marker}. */
    private static void killHard(String marker) throws InterruptedException {
        List<ProcessHandle> victims =
                ProcessHandle.allProcesses()
                        .filter(
                                p ->
                                        p.info()
                                                .commandLine()
                                                .map(c -> c.contains(marker))
                                                .orElse(false))
                        .toList();
        assertEquals(1, victims.size(), "one process runs with " + marker);
        victims.get(0).destroyForcibly();
        victims.get(0).onExit().join();
    }

    private static String body(String name) {
        return "{\"name\":\"" + name + "\",\"width\":6,\"chunkSizeBytes\":" + 64 * MIB + "}";
    }

    private NbdClient volume(String name) throws Exception {
        URI export = URI.create(get(pool, "/pools/" + name).path("nbdExport").asText());
        return NbdClient.connect(export.getHost(), export.getPort(), name);
    }

    private static JsonNode get(ServiceProcess service, String path) {
        try {
            return JSON.readTree(service.get(path).body());
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    private static PoolHealthChanged failureNote(String name) {
        try (TopicReader events =
                new TopicReader(KafkaBroker.shared().bootstrapServers(), Topics.POOL_EVENTS)) {
            Predicate<CloudEvent> note =
                    e ->
                            e.data() instanceof PoolHealthChanged h
                                    && h.hostId().equals(HOST)
                                    && h.reason() != null
                                    && h.reason().contains("'" + name + "'");
            List<CloudEvent> found = events.events(note, 1, Duration.ofSeconds(30));
            assertEquals(1, found.size(), "failure note of " + name);
            return (PoolHealthChanged) found.get(0).data();
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("not within 120 s: " + what);
    }
}
