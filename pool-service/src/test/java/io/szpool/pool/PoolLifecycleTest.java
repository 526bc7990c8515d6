package io.szpool.pool;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.PoolEvent.PoolCapacityAlert;
import io.szpool.events.PoolEvent.PoolCreated;
import io.szpool.events.PoolEvent.PoolDestroyed;
import io.szpool.events.PoolEvent.PoolGrown;
import io.szpool.events.PoolEvent.PoolHealthChanged;
import io.szpool.events.PoolEvent.PoolScrubbed;
import io.szpool.events.Topics;
import io.szpool.events.Vocabulary;
import io.szpool.events.Vocabulary.GrowthTrigger;
import io.szpool.nbd.NbdClient;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.ProjectLayout;
import io.szpool.testing.ServiceProcess;
import io.szpool.testing.TopicReader;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Pools over real devices: the packaged crypto-device-service runs as a process on the real broker
 * (same host id as this pool-service), and every pool here is built from its encrypted NBD chunks.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoolLifecycleTest {
    private static final int MIB = 1 << 20;
    private static final long CHUNK = 64L * MIB;
    private static final String HOST = "pool-test-host";
    private static final String TANK = "tank-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String AUTO = "auto-" + UUID.randomUUID().toString().substring(0, 8);
    private static final byte[] DATA = random(32 * MIB, 1);
    private static ServiceProcess device;
    private static int nbdPort;

    @BeforeAll
    static void startDeviceService() throws IOException {
        Path dir = ProjectLayout.target().resolve("pool-it").resolve(UUID.randomUUID().toString());
        Files.createDirectories(dir);
        Path passphrase = dir.resolve("passphrase");
        Files.writeString(passphrase, "pool test passphrase " + UUID.randomUUID() + "\n");
        device =
                PoolServices.startDeviceService(
                        "crypto-device-service-" + dir.getFileName(),
                        HOST,
                        dir.resolve("device"),
                        passphrase);
    }

    @AfterAll
    static void stopDeviceService() {
        if (device != null) {
            device.close();
        }
    }

    @Test
    @Order(1)
    void createsAPoolOfSixEncryptedChunksAndServesItsVolume() throws Exception {
        JsonPath created =
                given().contentType(ContentType.JSON)
                        .body(Map.of("name", TANK, "width", 6, "chunkSizeBytes", CHUNK, "vdevs", 1))
                        .post("/pools")
                        .then()
                        .statusCode(201)
                        .body("health", equalTo("ONLINE"))
                        .body("state", equalTo("imported"))
                        .body("vdevs", hasSize(1))
                        .body("vdevs[0].devices", hasSize(6))
                        .extract()
                        .jsonPath();
        String poolId = created.getString("poolId");
        long size = created.getLong("sizeBytes");
        // 4 of 6 columns carry data; metadata and the copy-on-write reserve take a little.
        assertTrue(size > 3 * CHUNK && size <= 4 * CHUNK, "size " + size);
        for (int c = 0; c < 6; c++) {
            assertEquals("ONLINE", created.getString("vdevs[0].devices[" + c + "].state"));
            assertEquals(0, created.getInt("vdevs[0].devices[" + c + "].checksumErrors"));
            assertTrue(
                    created.getString("vdevs[0].devices[" + c + "].deviceAddress")
                            .startsWith("nbd://127.0.0.1:"));
        }

        try (NbdClient volume = volume(TANK)) {
            assertEquals(size, volume.size());
            write(volume, 0, DATA);
            assertArrayEquals(DATA, read(volume, 0, DATA.length));
        }
        given().get("/pools/" + TANK)
                .then()
                .statusCode(200)
                .body(
                        "allocatedBytes",
                        org.hamcrest.Matchers.greaterThanOrEqualTo((int) (32 * MIB)))
                .body("health", equalTo("ONLINE"));

        try (TopicReader events =
                new TopicReader(KafkaBroker.shared().bootstrapServers(), Topics.POOL_EVENTS)) {
            List<ConsumerRecord<String, String>> records =
                    events.records(r -> poolId.equals(r.key()), 1, Duration.ofSeconds(30));
            assertEquals(1, records.size(), "PoolCreated keyed by the pool id");
            CloudEvent event =
                    CloudEventRecords.fromRecord(records.get(0).headers(), records.get(0).value());
            PoolCreated pc = (PoolCreated) event.data();
            assertEquals(TANK, pc.name());
            assertEquals(HOST, pc.hostId());
            assertEquals(6, pc.vdevs().get(0).size());
            assertEquals(size, pc.sizeBytes());
        }
    }

    @Test
    @Order(2)
    void nbdcopyWritesThroughTheVolume() throws Exception {
        Path nbdcopy = Path.of("/usr/bin/nbdcopy");
        Assumptions.assumeTrue(
                Files.isExecutable(nbdcopy), "nbdcopy (libnbd-bin) is not installed here");
        byte[] data = random(16 * MIB, 2);
        Path file = ProjectLayout.target().resolve("pool-it/nbdcopy-" + UUID.randomUUID());
        Files.write(file, data);
        Process p =
                new ProcessBuilder(nbdcopy.toString(), "--flush", file.toString(), exportUri(TANK))
                        .redirectErrorStream(true)
                        .start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "nbdcopy finished");
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), output);
        try (NbdClient volume = volume(TANK)) {
            assertArrayEquals(data, read(volume, 0, data.length));
            // Put the first test's data back for the tests that follow.
            write(volume, 0, DATA);
        }
    }

    @Test
    @Order(3)
    void growsByAVdevAndKeepsTheData() throws Exception {
        JsonPath before = given().get("/pools/" + TANK).then().extract().jsonPath();
        JsonPath after =
                given().contentType(ContentType.JSON)
                        .body(Map.of("vdevs", 1))
                        .post("/pools/" + TANK + "/grow")
                        .then()
                        .statusCode(200)
                        .body("vdevs", hasSize(2))
                        .body("vdevs[1].devices", hasSize(6))
                        .body("health", equalTo("ONLINE"))
                        .extract()
                        .jsonPath();
        assertTrue(after.getLong("sizeBytes") > before.getLong("sizeBytes"));
        try (NbdClient volume = volume(TANK)) {
            assertEquals(after.getLong("sizeBytes"), volume.size());
            assertArrayEquals(DATA, read(volume, 0, DATA.length));
            byte[] tail = random(4 * MIB, 3);
            long offset = volume.size() - tail.length; // in the new vdev
            write(volume, offset, tail);
            assertArrayEquals(tail, read(volume, offset, tail.length));
        }
        PoolGrown grown =
                awaitEvent(before.getString("poolId"), PoolGrown.class, e -> true, "PoolGrown");
        assertEquals(1, grown.vdevIndex());
        assertEquals(GrowthTrigger.OPERATOR, grown.trigger());
        assertEquals(before.getLong("sizeBytes"), grown.sizeBytesBefore());
        assertEquals(after.getLong("sizeBytes"), grown.sizeBytesAfter());
    }

    @Test
    @Order(4)
    void scrubsEveryAllocatedBlock() {
        JsonPath result =
                given().post("/pools/" + TANK + "/scrub")
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath();
        assertTrue(result.getLong("bytesScanned") >= 32 * MIB, result.prettify());
        assertEquals(0, result.getLong("errorsUnrecoverable"));
        String poolId = given().get("/pools/" + TANK).jsonPath().getString("poolId");
        awaitEvent(poolId, PoolScrubbed.class, e -> true, "PoolScrubbed");
    }

    @Test
    @Order(5)
    void exportsAndImportsTwiceEach() throws Exception {
        given().post("/pools/" + TANK + "/export")
                .then()
                .statusCode(200)
                .body("state", equalTo("exported"))
                .body("health", equalTo("UNAVAIL"));
        given().post("/pools/" + TANK + "/export").then().statusCode(409);
        given().post("/pools/" + TANK + "/scrub")
                .then()
                .statusCode(409)
                .body("detail", containsString("import it first"));
        assertThrows(IOException.class, () -> volume(TANK).close());

        for (int i = 0; i < 2; i++) {
            given().post("/pools/" + TANK + "/import")
                    .then()
                    .statusCode(200)
                    .body("state", equalTo("imported"))
                    .body("health", equalTo("ONLINE"))
                    .body("vdevs", hasSize(2));
        }
        try (NbdClient volume = volume(TANK)) {
            assertArrayEquals(DATA, read(volume, 0, DATA.length));
        }
    }

    @Test
    @Order(6)
    void badInputIsAProblemDetail() {
        post("/pools", Map.of("name", "x", "width", 3, "chunkSizeBytes", CHUNK), 400)
                .body("detail", containsString("width"));
        post("/pools", Map.of("name", "x", "chunkSizeBytes", 1000), 400)
                .body("detail", containsString("chunkSizeBytes"));
        post("/pools", Map.of("name", "bad name!", "chunkSizeBytes", CHUNK), 400)
                .body("detail", containsString("name"));
        post("/pools", Map.of("name", "x", "chunkSizeBytes", CHUNK, "vdevs", 0), 400);
        post("/pools", Map.of("name", TANK, "chunkSizeBytes", CHUNK), 409)
                .body("detail", containsString("exists"));
        given().get("/pools/no-such-pool")
                .then()
                .statusCode(404)
                .body("status", equalTo(404))
                .body(org.hamcrest.Matchers.not(containsString("Exception")));
        post("/pools/no-such-pool/grow", Map.of("vdevs", 1), 404);
        given().post("/pools/no-such-pool/scrub").then().statusCode(404);
        given().delete("/pools/no-such-pool").then().statusCode(404);
        given().contentType(ContentType.JSON)
                .body(Map.of("thresholdPercent", 0))
                .put("/pools/" + TANK + "/policy")
                .then()
                .statusCode(400);
        given().contentType(ContentType.JSON)
                .body("{\"name\": ")
                .post("/pools")
                .then()
                .statusCode(400);
    }

    @Test
    @Order(7)
    void chunksTheDeviceServiceRefusesRollTheCreationBack() {
        String name = "huge-" + UUID.randomUUID().toString().substring(0, 8);
        // 6 TiB of chunks: more than this file system could hold, so the device service refuses.
        post("/pools", Map.of("name", name, "chunkSizeBytes", 1L << 40), 502)
                .body("detail", containsString("rolled back"))
                .body("detail", containsString("refused"));
        given().get("/pools/" + name).then().statusCode(404);
        try (TopicReader events =
                new TopicReader(KafkaBroker.shared().bootstrapServers(), Topics.POOL_EVENTS)) {
            List<CloudEvent> notes =
                    events.events(
                            e ->
                                    e.data() instanceof PoolHealthChanged h
                                            && h.reason() != null
                                            && h.reason().contains(name),
                            1,
                            Duration.ofSeconds(30));
            assertEquals(1, notes.size(), "a failure note on the pool topic");
        }
        // The name is free again.
        given().get("/pools")
                .then()
                .statusCode(200)
                .body(org.hamcrest.Matchers.not(containsString(name)));
    }

    @Test
    @Order(8)
    void aFullPoolGrowsByItself() throws Exception {
        JsonPath created =
                post("/pools", Map.of("name", AUTO, "chunkSizeBytes", CHUNK), 201)
                        .extract()
                        .jsonPath();
        String poolId = created.getString("poolId");
        long size = created.getLong("sizeBytes");
        given().contentType(ContentType.JSON)
                .body(Map.of("thresholdPercent", 10))
                .put("/pools/" + AUTO + "/policy")
                .then()
                .statusCode(200)
                .body("autoGrow.thresholdPercent", equalTo(10))
                .body("autoGrow.enabled", equalTo(true));
        try (NbdClient volume = volume(AUTO)) {
            write(volume, 0, DATA); // 32 MiB of about 250 MiB: past 10 %
        }
        PoolCapacityAlert alert =
                awaitEvent(poolId, PoolCapacityAlert.class, e -> true, "PoolCapacityAlert");
        assertEquals(10, alert.thresholdPercent());
        // The monitor may look while the 32 MiB are still being written: at or past 10 % is enough.
        assertTrue(
                alert.allocatedBytes() * 100 >= 10 * alert.sizeBytes(),
                alert.allocatedBytes() + " of " + alert.sizeBytes());
        PoolGrown grown =
                awaitEvent(
                        poolId,
                        PoolGrown.class,
                        g -> g.trigger() == GrowthTrigger.CAPACITY_ALERT,
                        "PoolGrown by capacity alert");
        assertEquals(size, grown.sizeBytesBefore());
        assertTrue(grown.sizeBytesAfter() > size);
        JsonPath after = given().get("/pools/" + AUTO).then().extract().jsonPath();
        assertEquals(2, after.getList("vdevs").size());
        try (NbdClient volume = volume(AUTO)) {
            assertArrayEquals(DATA, read(volume, 0, DATA.length));
        }
    }

    @Test
    @Order(9)
    void destroyReleasesThePoolAndItsChunks() {
        String poolId = given().get("/pools/" + AUTO).jsonPath().getString("poolId");
        given().delete("/pools/" + AUTO).then().statusCode(204);
        given().get("/pools/" + AUTO).then().statusCode(404);
        given().delete("/pools/" + AUTO).then().statusCode(404);
        awaitEvent(poolId, PoolDestroyed.class, e -> true, "PoolDestroyed");
        assertFalse(given().get("/pools").asString().contains(AUTO), "destroyed pool still listed");
    }

    @Test
    @Order(10)
    void freezeHoldsWritesUntilThawWhileReadsGoOn() throws Exception {
        JsonPath frozen =
                post("/pools/" + TANK + "/freeze", Map.of("timeoutMs", 60000), 200)
                        .body("pool", equalTo(TANK))
                        .body("vdevs", hasSize(2))
                        .body("vdevs[0].index", equalTo(0))
                        .body("vdevs[1].chunkIds", hasSize(6))
                        .extract()
                        .jsonPath();
        JsonPath status = given().get("/pools/" + TANK).jsonPath();
        assertEquals(status.getString("poolId"), frozen.getString("poolId"));
        assertEquals(
                status.getList("vdevs[0].devices.chunkId"), frozen.getList("vdevs[0].chunkIds"));
        java.time.Instant.parse(frozen.getString("frozenAt"));
        post("/pools/" + TANK + "/freeze", Map.of(), 409)
                .body("detail", containsString("frozen already"));
        given().post("/pools/" + TANK + "/scrub").then().statusCode(409);

        byte[] update = random(MIB, 10);
        java.util.concurrent.CompletableFuture<Void> held =
                java.util.concurrent.CompletableFuture.runAsync(() -> writeQuietly(TANK, update));
        // Reads go on over another connection while the write waits.
        try (NbdClient volume = volume(TANK)) {
            assertArrayEquals(DATA, read(volume, 0, DATA.length));
        }
        assertFalse(held.isDone(), "a write went through a frozen pool");

        long frozenMillis =
                given().post("/pools/" + TANK + "/thaw")
                        .then()
                        .statusCode(200)
                        .body("pool", equalTo(TANK))
                        .extract()
                        .jsonPath()
                        .getLong("frozenMillis");
        assertTrue(frozenMillis >= 0);
        held.get(60, TimeUnit.SECONDS); // the held write completes after the thaw
        try (NbdClient volume = volume(TANK)) {
            assertArrayEquals(update, read(volume, 0, update.length));
            write(volume, 0, DATA); // put the data back
        }
        given().post("/pools/" + TANK + "/thaw")
                .then()
                .statusCode(409)
                .body("detail", containsString("not frozen"));
    }

    @Test
    @Order(11)
    void aFreezeNobodyThawsEndsByItself() throws Exception {
        post("/pools/" + TANK + "/freeze", Map.of("timeoutMs", 1000), 200);
        byte[] update = random(MIB, 11);
        // Completes only through the auto-thaw: nobody calls thaw.
        java.util.concurrent.CompletableFuture.runAsync(() -> writeQuietly(TANK, update))
                .get(60, TimeUnit.SECONDS);
        given().post("/pools/" + TANK + "/thaw").then().statusCode(409);
        try (NbdClient volume = volume(TANK)) {
            assertArrayEquals(update, read(volume, 0, update.length));
            write(volume, 0, DATA);
        }
        // With no body the default timeout (5 s) applies; thaw right away.
        given().post("/pools/" + TANK + "/freeze").then().statusCode(200);
        given().post("/pools/" + TANK + "/thaw").then().statusCode(200);
    }

    @Test
    @Order(12)
    void freezeRefusesBadTimeoutsUnknownAndExportedPools() {
        post("/pools/" + TANK + "/freeze", Map.of("timeoutMs", 0), 400)
                .body("detail", containsString("timeoutMs"));
        post("/pools/" + TANK + "/freeze", Map.of("timeoutMs", 60001), 400);
        given().contentType(ContentType.JSON)
                .body("{\"timeoutMs\": ")
                .post("/pools/" + TANK + "/freeze")
                .then()
                .statusCode(400)
                .body("detail", containsString("JSON"));
        post("/pools/no-such-pool/freeze", Map.of(), 404);
        given().post("/pools/no-such-pool/thaw").then().statusCode(404);
        given().post("/pools/" + TANK + "/export").then().statusCode(200);
        post("/pools/" + TANK + "/freeze", Map.of(), 409)
                .body("detail", containsString("exported"));
        given().post("/pools/" + TANK + "/import").then().statusCode(200);
    }

    @Test
    @Order(13)
    void aPoolImportedWithADeviceMissingAnnouncesTheHealthChange() throws Exception {
        JsonPath pool = given().get("/pools/" + TANK).then().statusCode(200).extract().jsonPath();
        String poolId = pool.getString("poolId");
        String chunkId = pool.getString("vdevs[0].devices[2].chunkId");
        byte[] before;
        try (NbdClient volume = volume(TANK)) {
            before = read(volume, 0, DATA.length);
        }
        given().post("/pools/" + TANK + "/export").then().statusCode(200);
        assertEquals(200, device.postJson("/chunks/" + chunkId + "/detach", "").statusCode());
        try {
            given().post("/pools/" + TANK + "/import")
                    .then()
                    .statusCode(200)
                    .body("health", equalTo("DEGRADED"));
            PoolHealthChanged change =
                    awaitEvent(
                            poolId,
                            PoolHealthChanged.class,
                            h ->
                                    h.previous() == Vocabulary.Health.ONLINE
                                            && h.health() == Vocabulary.Health.DEGRADED,
                            "PoolHealthChanged ONLINE > DEGRADED across export and import");
            assertEquals(poolId, change.poolId());
            try (NbdClient volume = volume(TANK)) {
                assertArrayEquals(before, read(volume, 0, DATA.length), "read through parity");
            }
        } finally {
            device.postJson("/chunks/" + chunkId + "/attach", "");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void writeQuietly(String pool, byte[] data) {
        try (NbdClient volume = volume(pool)) {
            write(volume, 0, data);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static io.restassured.response.ValidatableResponse post(
            String path, Object body, int status) {
        return given().contentType(ContentType.JSON)
                .body(body)
                .post(path)
                .then()
                .statusCode(status);
    }

    private static <T> T awaitEvent(
            String poolId, Class<T> type, java.util.function.Predicate<T> filter, String what) {
        try (TopicReader events =
                new TopicReader(KafkaBroker.shared().bootstrapServers(), Topics.POOL_EVENTS)) {
            List<CloudEvent> found =
                    events.events(
                            e ->
                                    poolId.equals(e.subject())
                                            && type.isInstance(e.data())
                                            && filter.test(type.cast(e.data())),
                            1,
                            Duration.ofSeconds(90));
            assertEquals(
                    1, found.size(), what + " of pool " + poolId + " on " + Topics.POOL_EVENTS);
            return type.cast(found.get(0).data());
        }
    }

    private static String exportUri(String pool) {
        return given().get("/pools/" + pool).jsonPath().getString("nbdExport");
    }

    private static NbdClient volume(String pool) throws IOException {
        URI uri = URI.create("nbd://127.0.0.1:" + nbdPort() + "/" + pool);
        return NbdClient.connect(uri.getHost(), uri.getPort(), pool);
    }

    /** The volume listener's port, learned while a pool is imported (it outlives exports). */
    private static int nbdPort() {
        if (nbdPort == 0) {
            nbdPort = URI.create(exportUri(TANK)).getPort();
        }
        return nbdPort;
    }

    private static void write(NbdClient volume, long offset, byte[] data) throws IOException {
        int step = 4 * (int) MIB;
        for (int done = 0; done < data.length; done += step) {
            volume.write(
                    offset + done,
                    ByteBuffer.wrap(data, done, Math.min(step, data.length - done)),
                    false);
        }
        volume.flush();
    }

    private static byte[] read(NbdClient volume, long offset, int length) throws IOException {
        byte[] out = new byte[length];
        int step = 4 * (int) MIB;
        for (int done = 0; done < length; done += step) {
            volume.read(offset + done, ByteBuffer.wrap(out, done, Math.min(step, length - done)));
        }
        return out;
    }

    private static byte[] random(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }
}
