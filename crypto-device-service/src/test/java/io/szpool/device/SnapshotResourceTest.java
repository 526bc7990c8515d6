package io.szpool.device;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.szpool.crypto.Holes;
import io.szpool.crypto.XtsCipher;
import io.szpool.crypto.XtsKey;
import io.szpool.device.key.PoolKeyring;
import io.szpool.device.snapshot.SnapshotService;
import io.szpool.nbd.NbdClient;
import io.szpool.testing.KafkaResource;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Crash-consistent snapshots of a pool's chunk devices, driven through the REST API while writes go
 * through the real NBD export: what was written before the barrier is in the snapshot, what comes
 * after is not, no write is torn, and side files go away with the snapshot.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class SnapshotResourceTest {
    private static final long MIB = 1L << 20;
    private static final int UNIT = 4096;
    private static final long CHUNK = 64 * MIB;

    @Inject PoolKeyring keys;
    @Inject SnapshotService service;

    @ConfigProperty(name = "szpool.device.data-dir")
    Path dataDir;

    @Test
    void writesBeforeTheBarrierAreInTheSnapshotAndWritesAfterItAreNot() throws Exception {
        String pool = "snap-" + UUID.randomUUID();
        List<String> ids = provision(pool, 2);
        String a = ids.get(0);
        String b = ids.get(1);
        byte[] before = random(1, (int) MIB);
        byte[] after = random(2, (int) MIB);
        JsonPath first;
        byte[] expectedA;
        byte[] expectedB;
        try (NbdClient device = connect(a)) {
            device.write(0, ByteBuffer.wrap(before), false);
            device.write(8 * MIB, ByteBuffer.wrap(before, 0, 64 * UNIT), false);
            device.flush();

            first = snapshot("{\"poolId\":\"" + pool + "\"}");
            assertEquals(pool, first.getString("poolId"));
            Instant.parse(first.getString("createdAt"));
            assertTrue(first.getLong("barrierMicros") >= 0);
            assertEquals(List.of(a, b).stream().sorted().toList(), first.getList("chunks.chunkId"));
            assertEquals(2L, state(first, a).get("writes"));
            assertEquals(0L, state(first, b).get("writes"));
            assertEquals(CHUNK, state(first, a).get("sizeBytes"));
            // Nothing writes between the barrier and here: the files are the snapshot's bytes.
            expectedA = Files.readAllBytes(chunkFile(a));
            expectedB = Files.readAllBytes(chunkFile(b));

            device.write(0, ByteBuffer.wrap(after), false);
            device.trim(8 * MIB, 64 * UNIT, false);
            device.writeZeroes(16 * MIB, 16 * UNIT, true, false);
            device.write(32 * MIB, ByteBuffer.wrap(after, 0, 8 * UNIT), false);
            device.flush();
            ByteBuffer live = ByteBuffer.allocate((int) MIB);
            device.read(0, live);
            assertArrayEquals(after, live.array(), "the live device has the new writes");
        }
        String sid = first.getString("snapshotId");
        byte[] streamA = stream(sid, a);
        assertEquals(CHUNK, streamA.length);
        assertArrayEquals(expectedA, streamA, "the snapshot is the chunk as of the barrier");
        assertArrayEquals(expectedB, stream(sid, b));
        byte[] plain = decrypt(pool, a, streamA, 0, (int) MIB);
        assertArrayEquals(before, plain, "decrypts to what was written before the barrier");
        assertArrayEquals(
                new byte[8 * UNIT],
                decrypt(pool, a, streamA, 32 * MIB, 8 * UNIT),
                "a unit first written after the barrier is still a hole in the snapshot");
        assertFalse(Arrays.equals(expectedA, Files.readAllBytes(chunkFile(a))));

        Path side = service.folder(sid);
        assertTrue(Files.exists(side.resolve(a)), "A's old units went to a side file");
        assertFalse(Files.exists(side.resolve(b)), "B was not written: no side file");

        JsonPath second = snapshot("{\"poolId\":\"" + pool + "\",\"chunkIds\":[\"" + b + "\"]}");
        assertEquals(List.of(b), second.getList("chunks.chunkId"));
        assertEquals(state(first, b), state(second, b), "B unchanged: same epoch and writes");
        JsonPath third = snapshot("{\"poolId\":\"" + pool + "\"}");
        assertEquals(state(first, a).get("epoch"), state(third, a).get("epoch"));
        assertEquals(6L, state(third, a).get("writes"), "2 writes, then write+trim+zero+write");

        for (JsonPath s : List.of(first, second, third)) {
            given().delete("/snapshots/" + s.getString("snapshotId")).then().statusCode(204);
        }
        assertFalse(Files.exists(side), "deleting the snapshot removed its side files");
        given().get("/snapshots/" + sid + "/chunks/" + a)
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        given().delete("/snapshots/" + sid).then().statusCode(404);
        destroy(ids);
    }

    @Test
    void changesSinceAnEarlierSnapshotNameOnlyTheWrittenRegionsAndRangesReadThem()
            throws Exception {
        String pool = "changes-" + UUID.randomUUID();
        String a = provision(pool, 1).get(0);
        JsonPath first;
        JsonPath second;
        JsonPath sinceOpen;
        try (NbdClient device = connect(a)) {
            device.write(3 * MIB + UNIT, ByteBuffer.wrap(random(3, UNIT)), false);
            // 10 MiB - 4 KiB .. 11 MiB + 4 KiB: touches regions 9, 10 and 11.
            device.write(10 * MIB - UNIT, ByteBuffer.wrap(random(4, (int) MIB + 2 * UNIT)), false);
            device.flush();
            first = snapshot("{\"poolId\":\"" + pool + "\"}");
            String epoch0 = state(first, a).get("epoch") + ":0";
            sinceOpen = changes(first.getString("snapshotId"), a, epoch0, 200);
            device.write(20 * MIB, ByteBuffer.wrap(random(5, 2 * UNIT)), false);
            device.trim(40 * MIB + 8 * UNIT, UNIT, false);
            device.flush();
            second = snapshot("{\"poolId\":\"" + pool + "\"}");
        }
        String s1 = first.getString("snapshotId");
        String s2 = second.getString("snapshotId");
        String epoch = (String) state(first, a).get("epoch");
        long w1 = (Long) state(first, a).get("writes");

        JsonPath sinceFirst = changes(s2, a, epoch + ":" + w1, 200);
        assertEquals(false, sinceFirst.getBoolean("all"));
        assertEquals((int) MIB, sinceFirst.getInt("regionBytes"));
        assertEquals(
                List.of(List.of(20 * MIB, MIB), List.of(40 * MIB, MIB)),
                longs(sinceFirst.getList("regions")),
                "only the regions written between the two snapshots");
        assertEquals(
                List.of(List.of(3 * MIB, MIB), List.of(9 * MIB, 3 * MIB)),
                longs(sinceOpen.getList("regions")),
                "runs of adjacent regions are merged");
        // Asked again after later writes, the first snapshot's answer grows by them: a region
        // keeps only its last write's count, so the answer may hold too much, never too little.
        assertTrue(
                longs(changes(s1, a, epoch + ":0", 200).getList("regions"))
                        .containsAll(longs(sinceOpen.getList("regions"))));
        JsonPath otherEpoch = changes(s2, a, UUID.randomUUID() + ":" + w1, 200);
        assertTrue(otherEpoch.getBoolean("all"), "another epoch: everything counts as changed");
        assertEquals(List.of(List.of(0L, CHUNK)), longs(otherEpoch.getList("regions")));
        JsonPath nothing = changes(s2, a, epoch + ":" + state(second, a).get("writes"), 200);
        assertEquals(List.of(), nothing.getList("regions"), "nothing since the same snapshot");

        byte[] whole = stream(s2, a);
        byte[] range =
                given().get(
                                "/snapshots/"
                                        + s2
                                        + "/chunks/"
                                        + a
                                        + "?offset="
                                        + 20 * MIB
                                        + "&length="
                                        + MIB)
                        .then()
                        .statusCode(200)
                        .extract()
                        .asByteArray();
        assertArrayEquals(
                Arrays.copyOfRange(whole, (int) (20 * MIB), (int) (21 * MIB)),
                range,
                "a range is those bytes of the snapshot");

        for (String bad :
                List.of(
                        "?offset=1&length=4096",
                        "?offset=0&length=100",
                        "?offset=" + CHUNK + "&length=4096",
                        "?offset=-4096&length=4096",
                        "?offset=0")) {
            given().get("/snapshots/" + s2 + "/chunks/" + a + bad)
                    .then()
                    .statusCode(400)
                    .contentType("application/problem+json");
        }
        for (String since : List.of("", "nocolon", epoch + ":x", ":5", epoch + ":-1")) {
            changes(s2, a, since, 400);
        }
        given().get("/snapshots/" + s2 + "/chunks/nochunk/changes?since=" + epoch + ":0")
                .then()
                .statusCode(404);
        for (String sid : List.of(s1, s2)) {
            given().delete("/snapshots/" + sid).then().statusCode(204);
        }
        destroy(List.of(a));
    }

    private static JsonPath changes(String sid, String chunkId, String since, int status) {
        return given().queryParam("since", since)
                .get("/snapshots/" + sid + "/chunks/" + chunkId + "/changes")
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    private static List<List<Long>> longs(List<List<Number>> runs) {
        return runs.stream().map(r -> r.stream().map(Number::longValue).toList()).toList();
    }

    @Test
    void concurrentWritesAreWhollyInTheSnapshotOrWhollyOut() throws Exception {
        String pool = "snap-" + UUID.randomUUID();
        String chunkId = provision(pool, 1).get(0);
        int writers = 4;
        int blocks = 64; // 16 KiB blocks, each written by one writer only, so each has one history
        int blockBytes = 4 * UNIT;
        Map<Integer, List<long[]>> history = new ConcurrentHashMap<>(); // {seq, start, ack}
        AtomicLong sequence = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool4 = Executors.newFixedThreadPool(writers);
        List<Future<?>> running = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            running.add(
                    pool4.submit(
                            () -> {
                                Random random = new Random(writer);
                                ByteBuffer data = ByteBuffer.allocate(blockBytes);
                                try (NbdClient device = connect(chunkId)) {
                                    while (!stop.get()) {
                                        int block =
                                                writer + writers * random.nextInt(blocks / writers);
                                        long seq = sequence.incrementAndGet();
                                        data.clear();
                                        while (data.hasRemaining()) {
                                            data.putLong(seq);
                                        }
                                        data.flip();
                                        long start = System.nanoTime();
                                        device.write((long) block * blockBytes, data, false);
                                        long ack = System.nanoTime();
                                        history.computeIfAbsent(block, k -> new ArrayList<>())
                                                .add(new long[] {seq, start, ack});
                                        acked.incrementAndGet();
                                    }
                                }
                                return null;
                            }));
        }
        awaitAcked(acked, 300, running);
        long postStart = System.nanoTime();
        JsonPath snap = snapshot("{\"poolId\":\"" + pool + "\"}");
        long postEnd = System.nanoTime();
        awaitAcked(acked, acked.get() + 300, running);
        stop.set(true);
        for (Future<?> f : running) {
            f.get();
        }
        pool4.shutdown();

        byte[] image = stream(snap.getString("snapshotId"), chunkId);
        byte[] plain = decrypt(pool, chunkId, image, 0, blocks * blockBytes);
        long ackedBefore = 0;
        long startedBefore = 0;
        for (int block = 0; block < blocks; block++) {
            List<long[]> writes = history.getOrDefault(block, List.of());
            ByteBuffer content = ByteBuffer.wrap(plain, block * blockBytes, blockBytes);
            long seq = content.getLong(block * blockBytes);
            for (int at = block * blockBytes; at < (block + 1) * blockBytes; at += 8) {
                assertEquals(seq, content.getLong(at), "block " + block + " is torn at " + at);
            }
            int lastAcked = -1;
            for (int i = 0; i < writes.size(); i++) {
                if (writes.get(i)[2] < postStart) {
                    lastAcked = i;
                    ackedBefore++;
                }
                if (writes.get(i)[1] < postEnd) {
                    startedBefore++;
                }
            }
            int found = -1;
            for (int i = 0; i < writes.size(); i++) {
                if (writes.get(i)[0] == seq) {
                    found = i;
                }
            }
            if (seq == 0) {
                assertEquals(-1, lastAcked, "block " + block + " lost a write acknowledged before");
                continue;
            }
            assertTrue(found >= 0, "block " + block + " holds a write nobody made: " + seq);
            assertTrue(
                    found >= lastAcked,
                    "block " + block + " holds an older write than one acknowledged before");
            assertTrue(
                    writes.get(found)[1] < postEnd,
                    "block " + block + " holds a write started after the snapshot was made");
        }
        long counted = state(snap, chunkId).get("writes") instanceof Number n ? n.longValue() : -1;
        assertTrue(
                counted >= ackedBefore && counted <= startedBefore,
                "writes " + counted + " between " + ackedBefore + " and " + startedBefore);
        given().delete("/snapshots/" + snap.getString("snapshotId")).then().statusCode(204);
        destroy(List.of(chunkId));
    }

    @Test
    void aReattachedChunkStaysCoveredAndGetsANewEpoch() throws Exception {
        String pool = "snap-" + UUID.randomUUID();
        String chunkId = provision(pool, 1).get(0);
        JsonPath snap = snapshot("{\"poolId\":\"" + pool + "\"}");
        byte[] expected = Files.readAllBytes(chunkFile(chunkId));
        given().post("/chunks/" + chunkId + "/detach").then().statusCode(200);
        given().post("/chunks/" + chunkId + "/attach").then().statusCode(200);
        try (NbdClient device = connect(chunkId)) {
            device.write(0, ByteBuffer.wrap(random(3, 16 * UNIT)), false);
            device.flush();
        }
        assertArrayEquals(expected, stream(snap.getString("snapshotId"), chunkId));
        JsonPath later = snapshot("{\"poolId\":\"" + pool + "\"}");
        assertNotEquals(state(snap, chunkId).get("epoch"), state(later, chunkId).get("epoch"));
        assertEquals(1L, state(later, chunkId).get("writes"));
        assertEquals(
                2,
                service.dropOlderThan(Instant.now().plus(Duration.ofSeconds(1))),
                "both are older than a cutoff in the future");
        assertFalse(Files.exists(service.folder(snap.getString("snapshotId"))));
        given().get("/snapshots/" + later.getString("snapshotId")).then().statusCode(404);
        destroy(List.of(chunkId));
    }

    @Test
    void detachedChunksUnknownPoolsAndForeignChunksAreRefused() {
        String pool = "snap-" + UUID.randomUUID();
        List<String> ids = provision(pool, 2);
        given().post("/chunks/" + ids.get(1) + "/detach").then().statusCode(200);
        given().contentType(ContentType.JSON)
                .body("{\"poolId\":\"" + pool + "\"}")
                .post("/snapshots")
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("detail", containsString(ids.get(1)));
        // Naming only the attached chunk is fine.
        JsonPath one =
                snapshot("{\"poolId\":\"" + pool + "\",\"chunkIds\":[\"" + ids.get(0) + "\"]}");
        assertEquals(List.of(ids.get(0)), one.getList("chunks.chunkId"));
        given().delete("/snapshots/" + one.getString("snapshotId")).then().statusCode(204);

        given().contentType(ContentType.JSON)
                .body("{\"poolId\":\"no-such-pool-" + UUID.randomUUID() + "\"}")
                .post("/snapshots")
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        given().contentType(ContentType.JSON)
                .body(
                        "{\"poolId\":\""
                                + pool
                                + "\",\"chunkIds\":[\""
                                + ids.get(0)
                                + "\",\"nope\"]}")
                .post("/snapshots")
                .then()
                .statusCode(404)
                .body("detail", containsString("nope"));
        given().contentType(ContentType.JSON)
                .body("{\"poolId\":\"" + pool + "\",\"chunkIds\":[]}")
                .post("/snapshots")
                .then()
                .statusCode(400)
                .body("detail", containsString("chunkIds"));
        given().get("/snapshots/" + UUID.randomUUID()).then().statusCode(404);
        given().get("/snapshots/" + UUID.randomUUID() + "/chunks/" + ids.get(0))
                .then()
                .statusCode(404);
        given().delete("/snapshots/" + UUID.randomUUID()).then().statusCode(404);
        JsonPath snap =
                snapshot("{\"poolId\":\"" + pool + "\",\"chunkIds\":[\"" + ids.get(0) + "\"]}");
        given().get("/snapshots/" + snap.getString("snapshotId") + "/chunks/" + ids.get(1))
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        given().delete("/snapshots/" + snap.getString("snapshotId")).then().statusCode(204);
        destroy(ids);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{}|poolId is required",
                "{\"poolId\":\"../etc\"}|poolId must be",
                "{\"poolId\":\"p\",\"chunkIds\":\"abc\"}|chunkIds",
                "{\"poolId\":|malformed JSON",
            })
    void badBodiesAre400(String body, String reason) {
        given().contentType(ContentType.JSON)
                .body(body)
                .post("/snapshots")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("status", equalTo(400))
                .body("detail", containsString(reason));
    }

    private static void awaitAcked(AtomicLong acked, long target, List<Future<?>> running)
            throws Exception {
        while (acked.get() < target) {
            for (Future<?> f : running) {
                if (f.isDone()) {
                    f.get(); // a writer that failed fails the test with its cause
                }
            }
            Thread.sleep(5);
        }
    }

    private static JsonPath snapshot(String body) {
        return given().contentType(ContentType.JSON)
                .body(body)
                .post("/snapshots")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> state(JsonPath snapshot, String chunkId) {
        List<Map<String, Object>> chunks = snapshot.getList("chunks");
        Map<String, Object> s =
                chunks.stream()
                        .filter(c -> chunkId.equals(c.get("chunkId")))
                        .findFirst()
                        .orElseThrow();
        // JSON numbers come back as Integer or Long by size; compare as longs.
        Map<String, Object> normalized = new java.util.HashMap<>(s);
        normalized.replaceAll((k, v) -> v instanceof Number n ? (Object) n.longValue() : v);
        return normalized;
    }

    private static byte[] stream(String sid, String chunkId) {
        return given().get("/snapshots/" + sid + "/chunks/" + chunkId)
                .then()
                .statusCode(200)
                .contentType("application/octet-stream")
                .extract()
                .asByteArray();
    }

    private byte[] decrypt(String pool, String chunkId, byte[] cipher, long offset, int length) {
        byte[] out = Arrays.copyOfRange(cipher, (int) offset, (int) offset + length);
        try (XtsKey key = keys.chunkKey(pool, chunkId);
                XtsCipher xts = new XtsCipher(key)) {
            for (int at = 0; at < length; at += UNIT) {
                if (!Holes.isZero(out, at, UNIT)) {
                    xts.decrypt((offset + at) / UNIT, out, at, UNIT);
                }
            }
        }
        return out;
    }

    private static List<String> provision(String pool, int count) {
        List<String> ids =
                ChunkResourceTest.provisionIds(
                        "{\"poolId\":\""
                                + pool
                                + "\",\"count\":"
                                + count
                                + ",\"sizeBytes\":"
                                + CHUNK
                                + "}");
        assertEquals(count, ids.size());
        return ids;
    }

    private static void destroy(List<String> ids) {
        for (String id : ids) {
            given().delete("/chunks/" + id + "?force=true").then().statusCode(204);
        }
    }

    private Path chunkFile(String chunkId) {
        return dataDir.toAbsolutePath().resolve("chunks").resolve(chunkId);
    }

    private static NbdClient connect(String chunkId) throws IOException {
        String address = given().get("/chunks/" + chunkId).then().extract().path("deviceAddress");
        URI uri = URI.create(address);
        return NbdClient.connect(uri.getHost(), uri.getPort(), uri.getPath().substring(1));
    }

    private static byte[] random(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }
}
