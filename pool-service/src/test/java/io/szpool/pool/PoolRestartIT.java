package io.szpool.pool;

import static io.szpool.pool.PoolServices.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.szpool.events.CloudEvent;
import io.szpool.events.PoolEvent.PoolHealthChanged;
import io.szpool.events.Topics;
import io.szpool.nbd.NbdClient;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.TopicReader;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
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
    private static final int MIB = 1 << 20;
    private PoolServices services;

    @AfterEach
    void stopAll() {
        if (services != null) {
            services.close();
        }
    }

    @Test
    void poolsSurviveRestartsAndSagasFinishOrRollBack() throws Exception {
        services = new PoolServices("restart", "15s");
        services.start();

        // A pool with data, flushed.
        services.create("keep", 64L * MIB);
        byte[] data = new byte[8 * MIB];
        new Random(7).nextBytes(data);
        try (NbdClient volume = services.volume("keep")) {
            volume.write(0, ByteBuffer.wrap(data), false);
            volume.flush();
        }

        // No device service: the create times out and rolls back.
        services.device.close();
        services.device = null;
        HttpResponse<String> late = services.pool.postJson("/pools", body("late"));
        assertEquals(504, late.statusCode(), late.body());
        assertTrue(late.body().contains("rolled back"), late.body());
        String latePoolId = failureNote("late").poolId();

        // Still no device service: pool-service is killed (SIGKILL) in the middle of a create.
        CompletableFuture<HttpResponse<String>> pending =
                CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                return services.pool.postJson("/pools", body("resumed"));
                            } catch (Exception e) {
                                return null;
                            }
                        });
        awaitTrue(
                () -> services.get("/pools/resumed").path("saga").asText().equals("create"),
                "the create saga of 'resumed' is saved");
        String resumedPoolId = services.get("/pools/resumed").path("poolId").asText();
        services.killPool();
        pending.join();

        // Both come back; the device service serves the chunks at new addresses.
        services.start();
        awaitTrue(
                () -> services.get("/pools/keep").path("health").asText().equals("ONLINE"),
                "'keep' re-imported and ONLINE");
        try (NbdClient volume = services.volume("keep")) {
            byte[] back = new byte[data.length];
            volume.read(0, ByteBuffer.wrap(back));
            assertArrayEquals(data, back);
        }
        // The interrupted create ends one of the two clean ways: it finished (usually), or it
        // rolled back because the device service, busy restarting, was slower than the timeout.
        awaitTrue(
                () -> {
                    JsonNode r = services.get("/pools/resumed");
                    boolean finished =
                            r.path("state").asText().equals("imported")
                                    && r.path("health").asText().equals("ONLINE")
                                    && r.path("vdevs").get(0).path("devices").size() == 6;
                    boolean rolledBack =
                            r.path("status").asInt() == 404 && chunksOf(resumedPoolId) == 0;
                    return finished || rolledBack;
                },
                "the interrupted create of 'resumed' finished or rolled back after the restart");
        // The rolled-back pool's chunks, provisioned after its timeout, are destroyed.
        awaitTrue(() -> chunksOf(latePoolId) == 0, "no chunk of the rolled-back pool is left");
    }

    private int chunksOf(String poolId) {
        return PoolServices.get(services.device, "/chunks?pool=" + poolId).path("chunks").size();
    }

    private static String body(String name) {
        return "{\"name\":\"" + name + "\",\"width\":6,\"chunkSizeBytes\":" + 64 * MIB + "}";
    }

    private PoolHealthChanged failureNote(String name) {
        try (TopicReader events =
                new TopicReader(KafkaBroker.shared().bootstrapServers(), Topics.POOL_EVENTS)) {
            Predicate<CloudEvent> note =
                    e ->
                            e.data() instanceof PoolHealthChanged h
                                    && h.hostId().equals(services.host)
                                    && h.reason() != null
                                    && h.reason().contains("'" + name + "'");
            List<CloudEvent> found = events.events(note, 1, Duration.ofSeconds(30));
            assertEquals(1, found.size(), "failure note of " + name);
            return (PoolHealthChanged) found.get(0).data();
        }
    }
}
