package io.szpool.device;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.szpool.crypto.ChunkKeys;
import io.szpool.crypto.EncryptedChunkFile;
import io.szpool.crypto.KeySlot;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.XtsKey;
import io.szpool.device.chunk.ChunkFiles;
import io.szpool.events.CloudEvent;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.Topics;
import io.szpool.nbd.NbdClient;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.TopicReader;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /chunks/adopt}: a folder laid out as sync-service's restore does (key slot, records,
 * intact and damaged images, a chunk with no image) becomes this host's attached chunks, their
 * bytes readable through the NBD exports; every refusal leaves the folder and the host as they
 * were.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class AdoptResourceTest {
    static final long MIB = 1L << 20;
    static final long CHUNK = 64 * MIB;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "szpool.device.data-dir")
    Path dataDir;

    @ConfigProperty(name = "szpool.device.passphrase-file")
    Path passphraseFile;

    /** A restored folder made the way sync-service's restore writes one. */
    record Restored(Path root, String poolId, Map<String, byte[]> written, List<String> ids) {}

    @Test
    void adoptsIntactDamagedAndMissingChunksAndAnswersTheSameTwice() throws Exception {
        Restored r = restoredFolder(passphrase(), MasterKey.generate(), 3);
        String intact = r.ids().get(0);
        String damaged = r.ids().get(1);
        String missing = r.ids().get(2);
        Path root = r.root();
        Files.createDirectories(root.resolve("damaged"));
        Files.move(root.resolve("chunks/" + damaged), root.resolve("damaged/" + damaged));
        try (FileChannel ch =
                FileChannel.open(root.resolve("damaged/" + damaged), StandardOpenOption.WRITE)) {
            ch.truncate(CHUNK / 2); // a truncated download
        }
        Files.delete(root.resolve("chunks/" + missing));

        String first = adopt(root).then().statusCode(200).extract().asString();
        JsonPath answer = JsonPath.from(first);
        assertEquals(r.poolId(), answer.getString("poolId"));
        assertEquals(3, answer.getList("chunks").size());
        Map<String, String> restored =
                answer.getList("chunks", Map.class).stream()
                        .collect(
                                Collectors.toMap(
                                        c -> (String) c.get("chunkId"),
                                        c -> (String) c.get("restored")));
        assertEquals(Map.of(intact, "intact", damaged, "damaged", missing, "missing"), restored);
        assertEquals(
                List.of("attached"), answer.getList("chunks.state").stream().distinct().toList());
        assertEquals(
                List.of((int) CHUNK),
                answer.getList("chunks.sizeBytes").stream().distinct().toList());

        // The intact chunk reads back what was written, through the key slot adopted with it.
        try (NbdClient device = connect(address(answer, intact))) {
            assertEquals(CHUNK, device.size());
            ByteBuffer back = ByteBuffer.allocate(r.written().get(intact).length);
            device.read(5 * MIB, back);
            assertArrayEquals(r.written().get(intact), back.array());
        }
        // The damaged one is the chunk's size again (its lost tail a hole) and still decrypts its
        // first half; the missing one is a fresh sparse file the pool can rebuild into.
        try (NbdClient device = connect(address(answer, damaged))) {
            assertEquals(CHUNK, device.size());
            ByteBuffer back = ByteBuffer.allocate(r.written().get(damaged).length);
            device.read(5 * MIB, back);
            assertArrayEquals(r.written().get(damaged), back.array());
        }
        Path missingFile = dataDir.toAbsolutePath().resolve("chunks").resolve(missing);
        assertEquals(CHUNK, Files.size(missingFile));
        assertTrue(ChunkResourceTest.allocatedBytes(missingFile) < MIB, "a fresh sparse file");

        // The images moved: the folder keeps only its records and slot.
        assertFalse(Files.exists(root.resolve("chunks/" + intact)));
        assertFalse(Files.exists(root.resolve("damaged/" + damaged)));
        assertTrue(Files.exists(dataDir.toAbsolutePath().resolve("keys/" + r.poolId() + ".slot")));
        given().queryParam("pool", r.poolId())
                .get("/chunks")
                .then()
                .statusCode(200)
                .body("chunks", hasSize(3))
                .body(
                        "chunks.find { it.chunkId == '" + damaged + "' }.restored",
                        equalTo("damaged"))
                .body("chunks.find { it.chunkId == '" + intact + "' }.attached", equalTo(true));

        try (TopicReader reader = new TopicReader(bootstrap, Topics.DEVICE_EVENTS)) {
            List<CloudEvent> attached =
                    reader.events(
                            e ->
                                    r.poolId().equals(e.subject())
                                            && e.data() instanceof ChunkAttached,
                            3,
                            Duration.ofSeconds(30));
            assertEquals(3, attached.size(), "one ChunkAttached per adopted chunk");
        }

        // Idempotent: the same folder again moves nothing and answers the same.
        String second = adopt(root).then().statusCode(200).extract().asString();
        assertEquals(first, second);
        given().queryParam("pool", r.poolId()).get("/chunks").then().body("chunks", hasSize(3));
    }

    @Test
    void aSlotThatThisServicesPassphraseDoesNotOpenIs403AndMovesNothing() throws Exception {
        Restored r = restoredFolder("another passphrase".toCharArray(), MasterKey.generate(), 2);
        adopt(r.root())
                .then()
                .statusCode(403)
                .body("detail", containsString("does not open the restored key slot"));
        assertNothingAdopted(r);
    }

    @Test
    void aChunkIdInUseByAnotherChunkIs409AndMovesNothing() throws Exception {
        String other = "q-" + UUID.randomUUID();
        String taken =
                given().contentType(ContentType.JSON)
                        .body(
                                "{\"poolId\":\""
                                        + other
                                        + "\",\"count\":1,\"sizeBytes\":"
                                        + CHUNK
                                        + "}")
                        .post("/chunks")
                        .then()
                        .statusCode(201)
                        .extract()
                        .path("chunks[0].chunkId");
        Restored r = restoredFolder(passphrase(), MasterKey.generate(), 2);
        // The folder's second chunk is renamed to the id this host already uses.
        String renamed = r.ids().get(1);
        Files.move(r.root().resolve("chunks/" + renamed), r.root().resolve("chunks/" + taken));
        Files.delete(r.root().resolve("records/" + renamed + ".json"));
        writeRecord(r.root(), r.poolId(), taken, CHUNK);

        adopt(r.root())
                .then()
                .statusCode(409)
                .body("detail", containsString(taken))
                .body("detail", containsString(other));
        assertTrue(Files.exists(r.root().resolve("chunks/" + taken)));
        assertTrue(Files.exists(r.root().resolve("chunks/" + r.ids().get(0))));
        given().queryParam("pool", r.poolId()).get("/chunks").then().body("chunks", hasSize(0));
        assertFalse(Files.exists(dataDir.toAbsolutePath().resolve("keys/" + r.poolId() + ".slot")));
    }

    @Test
    void aPoolWhoseSlotHereHoldsAnotherKeyIs409() throws Exception {
        String pool = "p-" + UUID.randomUUID();
        given().contentType(ContentType.JSON)
                .body("{\"poolId\":\"" + pool + "\",\"count\":1,\"sizeBytes\":" + CHUNK + "}")
                .post("/chunks")
                .then()
                .statusCode(201);
        Restored r = restoredFolder(passphrase(), MasterKey.generate(), 1, pool);
        adopt(r.root()).then().statusCode(409).body("detail", containsString("different pools"));
        assertTrue(Files.exists(r.root().resolve("chunks/" + r.ids().get(0))));
        given().queryParam("pool", pool).get("/chunks").then().body("chunks", hasSize(1));
    }

    @Test
    void badFoldersAreProblemDetails() throws Exception {
        given().contentType(ContentType.JSON)
                .body("{}")
                .post("/chunks/adopt")
                .then()
                .statusCode(400);
        given().contentType(ContentType.JSON)
                .body("{\"folder\":")
                .post("/chunks/adopt")
                .then()
                .statusCode(400);
        given().contentType(ContentType.JSON)
                .body("{\"folder\":\"relative/restored\"}")
                .post("/chunks/adopt")
                .then()
                .statusCode(400)
                .body("detail", containsString("absolute"));
        given().contentType(ContentType.JSON)
                .body("{\"folder\":\"/nonexistent/" + UUID.randomUUID() + "\"}")
                .post("/chunks/adopt")
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        Path empty = Files.createTempDirectory("not-restored");
        adopt(empty).then().statusCode(400).body("detail", containsString("no key slot"));

        Restored r = restoredFolder(passphrase(), MasterKey.generate(), 2);
        Files.writeString(r.root().resolve("records/" + r.ids().get(0) + ".json"), "{not json");
        adopt(r.root()).then().statusCode(400).body("detail", containsString("not a chunk record"));
        Files.delete(r.root().resolve("records/" + r.ids().get(0) + ".json"));
        adopt(r.root()).then().statusCode(400).body("detail", containsString("has no record"));
        writeRecord(r.root(), r.poolId(), r.ids().get(0), CHUNK + 1);
        adopt(r.root()).then().statusCode(400).body("detail", containsString("sizeBytes"));
        Files.createFile(r.root().resolve("chunks/not-a-chunk-id"));
        writeRecord(r.root(), r.poolId(), r.ids().get(0), CHUNK);
        adopt(r.root()).then().statusCode(400).body("detail", containsString("not a chunk id"));
        assertNothingAdopted(r);
    }

    private void assertNothingAdopted(Restored r) {
        for (String id : r.ids()) {
            assertTrue(Files.exists(r.root().resolve("chunks/" + id)), "image " + id + " stays");
        }
        given().queryParam("pool", r.poolId()).get("/chunks").then().body("chunks", hasSize(0));
        assertFalse(Files.exists(dataDir.toAbsolutePath().resolve("keys/" + r.poolId() + ".slot")));
    }

    private static io.restassured.response.Response adopt(Path folder) {
        return given().contentType(ContentType.JSON)
                .body("{\"folder\":\"" + folder.toAbsolutePath() + "\"}")
                .post("/chunks/adopt");
    }

    private char[] passphrase() throws IOException {
        return Files.readAllLines(passphraseFile).get(0).toCharArray();
    }

    Restored restoredFolder(char[] passphrase, MasterKey master, int count) throws IOException {
        return restoredFolder(passphrase, master, count, "p-" + UUID.randomUUID());
    }

    /**
     * Chunk images encrypted under the pool's master key with 1 MiB of random data at 5 MiB, the
     * slot sealed by {@code passphrase}, records as the restore writes them.
     */
    Restored restoredFolder(char[] passphrase, MasterKey master, int count, String poolId)
            throws IOException {
        Path root = Files.createTempDirectory(Path.of("target"), "restored-").toAbsolutePath();
        Files.createDirectories(root.resolve("keys"));
        Files.createDirectories(root.resolve("chunks"));
        Files.createDirectories(root.resolve("records"));
        KeySlot.seal(master, passphrase).write(root.resolve("keys/" + poolId + ".slot"));
        Random random = new Random(count);
        Map<String, byte[]> written = new java.util.HashMap<>();
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            String id = ChunkFiles.newChunkId();
            Path image = root.resolve("chunks/" + id);
            EncryptedChunkFile.createSparse(image, CHUNK);
            byte[] data = new byte[(int) MIB];
            random.nextBytes(data);
            try (XtsKey key = ChunkKeys.derive(master, id);
                    EncryptedChunkFile chunk = EncryptedChunkFile.open(image, key)) {
                chunk.write(5 * MIB, ByteBuffer.wrap(data));
            }
            writeRecord(root, poolId, id, CHUNK, master.keyId());
            written.put(id, data);
            ids.add(id);
        }
        ids.sort(null);
        return new Restored(root, poolId, written, ids);
    }

    /** The record sync-service's restore writes (GenerationStore.record). */
    private static void writeRecord(Path root, String poolId, String chunkId, long size)
            throws IOException {
        writeRecord(root, poolId, chunkId, size, null);
    }

    private static void writeRecord(
            Path root, String poolId, String chunkId, long size, String keyId) throws IOException {
        Files.writeString(
                root.resolve("records/" + chunkId + ".json"),
                "{\"chunkId\":\""
                        + chunkId
                        + "\",\"poolId\":\""
                        + poolId
                        + "\",\"sizeBytes\":"
                        + size
                        + ",\"sparse\":true,"
                        + (keyId == null ? "" : "\"keyId\":\"" + keyId + "\",")
                        + "\"requestId\":\"restore-generation-1\","
                        + "\"attached\":false,\"createdAt\":\"2026-11-27T04:00:00Z\"}",
                StandardCharsets.UTF_8);
    }

    private static String address(JsonPath answer, String chunkId) {
        return answer.getString("chunks.find { it.chunkId == '" + chunkId + "' }.deviceAddress");
    }

    private static NbdClient connect(String address) throws IOException {
        URI uri = URI.create(address);
        return NbdClient.connect(uri.getHost(), uri.getPort(), uri.getPath().substring(1));
    }
}
