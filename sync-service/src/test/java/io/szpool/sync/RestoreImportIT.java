package io.szpool.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.szpool.events.CloudEvent;
import io.szpool.events.PoolEvent.PoolImported;
import io.szpool.events.SyncEvent.ChunkRestored;
import io.szpool.events.SyncEvent.RestoreCompleted;
import io.szpool.events.SyncEvent.RestoreFailed;
import io.szpool.events.Topics;
import io.szpool.nbd.NbdClient;
import io.szpool.sync.generation.Manifest;
import io.szpool.sync.generation.TargetKeys;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.ProjectLayout;
import io.szpool.testing.ServiceProcess;
import io.szpool.testing.TopicReader;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A restore that ends with a pool that serves: host A's packaged services and sync-service write
 * two generations of a full pool to a local-folder target; host B (another host id, fresh data
 * folders, its own packaged crypto-device-service, pool-service and sync-service on the real
 * broker) restores the latest with {@code "import": true}. Three bad chunks in the vdev are refused
 * before anything on B changes, naming them and the generation that still has them; with two (one
 * overwritten, one deleted) the pool imports ONLINE at B's pool-service with the volume's bytes
 * identical to A's (both read with nbdcopy), and RestoreCompleted follows PoolImported.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class RestoreImportIT {
    static final long CHUNK = 64L << 20;
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static Path work;
    static LiveStack a;
    static LiveStack b;
    static ServiceProcess syncA;
    static ServiceProcess syncB;

    @BeforeAll
    static void start() throws Exception {
        work =
                ProjectLayout.target()
                        .resolve("restore-import-it")
                        .resolve(UUID.randomUUID().toString());
        a = new LiveStack(work.resolve("host-a"), CHUNK);
        a.requireCaptureApi();
        b = new LiveStack(work.resolve("host-b"), CHUNK);
        Assumptions.assumeTrue(
                b.device.get("/q/openapi").body().contains("/chunks/adopt"),
                "the packaged crypto-device-service has no POST /chunks/adopt yet: package it from"
                        + " a tree that has it");
        a.createPool(6);
        syncA = a.startSync();
        syncB = b.startSync();
    }

    @AfterAll
    static void stop() {
        for (LiveStack s : new LiveStack[] {b, a}) {
            if (s != null) {
                s.close();
            }
        }
    }

    @Test
    void restoreWithImportRebuildsTwoBadChunksAndRefusesThree() throws Exception {
        long volumeSize =
                LiveStack.JSON
                        .readTree(a.pools.get("/pools/" + a.poolName).body())
                        .get("sizeBytes")
                        .asLong();
        // Every block of the volume written, so every chunk region is allocated and a scrub reads
        // it.
        fill(0, volumeSize, 1);
        Path target = Files.createDirectories(work.resolve("target"));
        String syncBody = "{\"target\":\"" + target + "\"}";
        JsonNode first = post(syncA, "/syncs/" + a.poolName, syncBody, 200);
        assertEquals(1, first.get("generation").asInt(), first.toString());
        // Generation 2 rewrites the whole volume: every chunk image differs from generation 1's.
        fill(0, volumeSize, 2);
        JsonNode second = post(syncA, "/syncs/" + a.poolName, syncBody, 200);
        assertEquals(2, second.get("generation").asInt(), second.toString());
        String original = sha256(nbdcopy(a.volume, a.poolName, work.resolve("volume-a")));

        List<String> vdev0 = new ArrayList<>();
        LiveStack.JSON
                .readTree(a.pools.get("/pools/" + a.poolName).body())
                .get("vdevs")
                .get(0)
                .get("devices")
                .forEach(d -> vdev0.add(d.get("chunkId").asText()));
        assertEquals(6, vdev0.size());

        Path folder;
        try (TargetKeys keys = a.targetKeys()) {
            folder = target.resolve(keys.generationFolder(2));
            String overwritten = vdev0.get(1);
            String deleted = vdev0.get(4);
            String third = vdev0.get(3);
            // Damage goes into segments generation 2 sent itself: one it linked from generation
            // 1 would damage generation 1 too.
            Path g1 = target.resolve(keys.generationFolder(1));
            Path thirdImage = folder.resolve(freshSegment(keys, g1, folder, third));
            byte[] saved = read(thirdImage, 2L << 20, 64 << 10);
            noise(folder.resolve(freshSegment(keys, g1, folder, overwritten)), 2L << 20, 1 << 20);
            for (int k = 0; k < CHUNK / Manifest.SEGMENT_BYTES; k++) {
                Files.delete(folder.resolve(keys.segmentFile(deleted, k)));
            }
            noise(thirdImage, 2L << 20, 64 << 10);

            // Three bad chunks in one vdev: refused before anything on host B changes.
            // The pool's own name: pool-service finds the pool by the name its chunks' labels
            // carry.
            String name = a.poolName;
            String restore =
                    "{\"target\":\"" + target + "\",\"import\":true,\"pool\":\"" + name + "\"}";
            HttpResponse<String> refused = send(syncB, "/restores", restore);
            assertEquals(409, refused.statusCode(), refused.body());
            String detail = LiveStack.JSON.readTree(refused.body()).get("detail").asText();
            for (String id : List.of(overwritten, deleted, third)) {
                assertTrue(detail.contains(id + " ("), detail);
            }
            assertTrue(detail.contains(deleted + " (missing, intact in generation 1)"), detail);
            assertTrue(detail.contains(overwritten + " (damaged, intact in generation 1)"), detail);
            assertTrue(detail.contains("nothing was changed"), detail);
            assertEquals(
                    0,
                    LiveStack.JSON.readTree(b.pools.get("/pools").body()).get("pools").size(),
                    "host B's pool-service has no pool");
            assertEquals(
                    0,
                    LiveStack.JSON.readTree(b.device.get("/chunks").body()).get("chunks").size(),
                    "host B's crypto-device-service has no chunk");
            try (var left = Files.list(work.resolve("host-b/sync"))) {
                assertFalse(
                        left.anyMatch(
                                p -> p.getFileName().toString().equals("restores") && nonEmpty(p)),
                        "the refused restore left no fetched files");
            }

            // Two bad chunks (one damaged, one missing): the pool imports and is repaired.
            write(thirdImage, 2L << 20, saved);
            JsonNode done = post(syncB, "/restores", restore, 200);
            JsonNode imported = done.get("imported");
            assertEquals(name, imported.get("pool").asText(), done.toString());
            assertEquals("ONLINE", imported.get("health").asText(), done.toString());
            assertEquals(List.of(deleted), ids(done.get("missing")));
            assertEquals(List.of(overwritten), ids(done.get("damaged")));
            Set<String> repaired = new TreeSet<>(ids(imported.get("repaired")));
            assertEquals(new TreeSet<>(List.of(overwritten, deleted)), repaired, done.toString());
            assertEquals(6, imported.get("chunksRestored").asInt());
            assertEquals(2, imported.get("chunksRepaired").asInt());

            JsonNode view = LiveStack.JSON.readTree(b.pools.get("/pools/" + name).body());
            assertEquals("ONLINE", view.get("health").asText(), view.toString());
            assertEquals("imported", view.get("state").asText(), view.toString());
            URI volumeB = URI.create(view.get("nbdExport").asText());
            Path copyB = nbdcopy(volumeB, name, work.resolve("volume-b"));
            // The restored pool is as full as A's was, so B's pool-service may grow it by a vdev
            // right after the import (auto-grow): A's bytes are the first volumeSize of B's.
            assertTrue(Files.size(copyB) >= volumeSize, "B's volume is at least A's size");
            try (FileChannel f = FileChannel.open(copyB, StandardOpenOption.WRITE)) {
                f.truncate(volumeSize);
            }
            String restored = sha256(copyB);
            assertEquals(original, restored, "host B's volume holds host A's bytes");

            // The same restore again: the name is taken now, a conflict before any fetch.
            HttpResponse<String> again = send(syncB, "/restores", restore);
            assertEquals(409, again.statusCode(), again.body());

            String host = b.hostId;
            try (TopicReader pools =
                            new TopicReader(
                                    KafkaBroker.shared().bootstrapServers(), Topics.POOL_EVENTS);
                    TopicReader syncs =
                            new TopicReader(
                                    KafkaBroker.shared().bootstrapServers(), Topics.SYNC_EVENTS)) {
                CloudEvent poolImported =
                        pools.events(
                                        e ->
                                                e.data() instanceof PoolImported i
                                                        && i.hostId().equals(host)
                                                        && i.poolId().equals(a.poolId),
                                        1,
                                        Duration.ofSeconds(60))
                                .get(0);
                List<CloudEvent> events =
                        syncs.events(
                                e ->
                                        a.poolId.equals(e.subject())
                                                && e.source().toString().contains(host),
                                // RestoreStarted, RestoreFailed (three bad), RestoreStarted, 6
                                // ChunkRestored, RestoreCompleted
                                10,
                                Duration.ofSeconds(60));
                assertEquals(
                        1, events.stream().filter(e -> e.data() instanceof RestoreFailed).count());
                RestoreFailed failed =
                        events.stream()
                                .map(CloudEvent::data)
                                .filter(RestoreFailed.class::isInstance)
                                .map(RestoreFailed.class::cast)
                                .findFirst()
                                .orElseThrow();
                assertEquals("check", failed.step());
                CloudEvent last = events.get(events.size() - 1);
                assertTrue(last.data() instanceof RestoreCompleted, events.toString());
                RestoreCompleted completed = (RestoreCompleted) last.data();
                assertEquals(2, completed.generation());
                assertEquals(6, completed.chunksRestored());
                assertEquals(2, completed.chunksRepaired());
                assertFalse(
                        last.time().isBefore(poolImported.time()),
                        "RestoreCompleted comes after PoolImported");
                Set<String> repairedEvents = new TreeSet<>();
                events.stream()
                        .map(CloudEvent::data)
                        .filter(ChunkRestored.class::isInstance)
                        .map(ChunkRestored.class::cast)
                        .filter(ChunkRestored::repaired)
                        .forEach(c -> repairedEvents.add(c.chunkId()));
                assertEquals(repaired, repairedEvents);
                for (CloudEvent e : events) {
                    assertFalse(e.toString().contains(LiveStack.PASSPHRASE));
                }
            }
        }
    }

    private static void fill(long from, long to, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] block = new byte[1 << 20];
        try (NbdClient volume = a.openVolume()) {
            for (long at = from; at < to; at += block.length) {
                random.nextBytes(block);
                int length = (int) Math.min(block.length, to - at);
                volume.write(at, ByteBuffer.wrap(block, 0, length), false);
            }
            volume.flush();
        }
    }

    /** The whole export copied with nbdcopy, libnbd's copying tool. */
    private static Path nbdcopy(URI volume, String export, Path file) throws Exception {
        Process p =
                new ProcessBuilder(
                                "nbdcopy",
                                "nbd://" + volume.getHost() + ":" + volume.getPort() + "/" + export,
                                file.toString())
                        .redirectErrorStream(true)
                        .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "nbdcopy: " + out);
        return file;
    }

    private static String sha256(Path file) throws Exception {
        Process p = new ProcessBuilder("sha256sum", file.toString()).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor());
        return out.split(" ")[0];
    }

    private static byte[] read(Path file, long at, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        try (FileChannel f = FileChannel.open(file, StandardOpenOption.READ)) {
            while (buffer.hasRemaining()) {
                if (f.read(buffer, at + buffer.position()) < 0) {
                    break;
                }
            }
        }
        return buffer.array();
    }

    private static void write(Path file, long at, byte[] bytes) throws IOException {
        try (FileChannel f = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                f.write(buffer, at + buffer.position());
            }
        }
    }

    /** The first segment of a chunk that generation 2 holds as its own file, not a link. */
    private static String freshSegment(TargetKeys keys, Path g1, Path g2, String chunkId)
            throws IOException {
        for (int k = 0; k < CHUNK / Manifest.SEGMENT_BYTES; k++) {
            String name = keys.segmentFile(chunkId, k);
            if (!Files.getAttribute(g1.resolve(name), "unix:ino")
                    .equals(Files.getAttribute(g2.resolve(name), "unix:ino"))) {
                return name;
            }
        }
        throw new AssertionError("generation 2 linked every segment of chunk " + chunkId);
    }

    private static void noise(Path file, long at, int length) throws IOException {
        byte[] bytes = new byte[length];
        new Random(at ^ length).nextBytes(bytes);
        write(file, at, bytes);
    }

    private static boolean nonEmpty(Path dir) {
        try (var s = Files.list(dir)) {
            return s.findAny().isPresent();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> ids(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static HttpResponse<String> send(ServiceProcess service, String path, String json)
            throws IOException, InterruptedException {
        // A restore or sync reads whole chunks: no short timeout here.
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + path))
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofMinutes(15))
                        .POST(HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode post(ServiceProcess service, String path, String json, int status)
            throws IOException, InterruptedException {
        HttpResponse<String> r = send(service, path, json);
        assertEquals(status, r.statusCode(), path + ": " + r.body());
        return LiveStack.JSON.readTree(r.body());
    }
}
