package io.szpool.device;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.szpool.device.chunk.ChunkFiles;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.Topics;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.TopicReader;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Provisioning and the chunk life cycle through the REST API, events checked on the real broker.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class ChunkResourceTest {
    static final long MIB = 1L << 20;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "szpool.device.data-dir")
    Path dataDir;

    @Inject ChunkFiles files;

    @Test
    void provisionCreatesSparseChunksAttachesTheirDevicesAndAnnouncesBoth() throws Exception {
        String pool = "p-" + UUID.randomUUID();
        List<String> ids =
                given().contentType(ContentType.JSON)
                        .body(
                                "{\"poolId\":\""
                                        + pool
                                        + "\",\"count\":3,\"sizeBytes\":"
                                        + 64 * MIB
                                        + "}")
                        .when()
                        .post("/chunks")
                        .then()
                        .statusCode(201)
                        .body("chunks", hasSize(3))
                        .body("chunks[0].poolId", equalTo(pool))
                        .body("chunks[0].sparse", equalTo(true))
                        .body("chunks[0].attached", equalTo(true))
                        .body("chunks[0].deviceAddress", startsWith("nbd://127.0.0.1:"))
                        .extract()
                        .jsonPath()
                        .getList("chunks.chunkId", String.class);

        for (String id : ids) {
            Path file = dataDir.toAbsolutePath().resolve("chunks").resolve(id);
            assertEquals(64 * MIB, Files.size(file));
            assertTrue(allocatedBytes(file) < MIB, "a new chunk file must be sparse");
            assertFalse(file.getFileName().toString().contains(pool), "file names are opaque");
        }

        try (TopicReader reader = new TopicReader(bootstrap, Topics.DEVICE_EVENTS)) {
            List<ConsumerRecord<String, String>> records =
                    reader.records(r -> pool.equals(r.key()), 6, Duration.ofSeconds(30));
            assertEquals(
                    6, records.size(), "ChunkCreated and ChunkAttached per chunk, keyed by pool");
            for (int i = 0; i < 6; i++) {
                CloudEvent event =
                        CloudEventRecords.fromRecord(
                                records.get(i).headers(), records.get(i).value());
                assertEquals("/hosts/local/crypto-device-service", event.source().toString());
                assertEquals(pool, event.subject());
                if (i < 3) {
                    ChunkCreated created = (ChunkCreated) event.data();
                    assertEquals(ids.get(i), created.chunkId());
                    assertEquals(64 * MIB, created.sizeBytes());
                    assertEquals(Cipher.AES_XTS_PLAIN64, created.cipher());
                } else {
                    ChunkAttached attached = (ChunkAttached) event.data();
                    assertEquals(ids.get(i - 3), attached.chunkId());
                    assertTrue(attached.deviceAddress().endsWith("/" + attached.chunkId()));
                }
            }
        }
    }

    @Test
    void theSameRequestIdProvisionsOnce() throws IOException {
        String pool = "p-" + UUID.randomUUID();
        String body =
                "{\"poolId\":\""
                        + pool
                        + "\",\"count\":2,\"sizeBytes\":"
                        + 64 * MIB
                        + ",\"requestId\":\"r-"
                        + pool
                        + "\"}";
        List<String> first = provisionIds(body);
        long files = chunkFiles();
        List<String> second = provisionIds(body);
        assertEquals(first, second);
        assertEquals(files, chunkFiles());
        given().contentType(ContentType.JSON)
                .body(body.replace("\"count\":2", "\"count\":3"))
                .post("/chunks")
                .then()
                .statusCode(409)
                .body("detail", containsString("already used"));
    }

    @Test
    void detachAttachAndDestroy() throws IOException {
        String pool = "p-" + UUID.randomUUID();
        String id =
                provisionIds(
                                "{\"poolId\":\""
                                        + pool
                                        + "\",\"count\":1,\"sizeBytes\":"
                                        + 64 * MIB
                                        + "}")
                        .get(0);
        given().delete("/chunks/" + id)
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("detail", containsString("attached"));
        given().post("/chunks/" + id + "/detach")
                .then()
                .statusCode(200)
                .body("attached", equalTo(false))
                .body("deviceAddress", nullValue());
        given().post("/chunks/" + id + "/attach")
                .then()
                .statusCode(200)
                .body("attached", equalTo(true))
                .body("deviceAddress", startsWith("nbd://"));
        given().delete("/chunks/" + id + "?force=true").then().statusCode(204);
        assertFalse(Files.exists(dataDir.toAbsolutePath().resolve("chunks").resolve(id)));
        given().get("/chunks/" + id).then().statusCode(404).contentType("application/problem+json");
        given().get("/chunks?pool=" + pool).then().statusCode(200).body("chunks", hasSize(0));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"count\":1,\"sizeBytes\":67108864}|poolId is required",
                "{\"poolId\":\"../etc\",\"count\":1}|poolId must be",
                "{\"poolId\":\"p1\",\"count\":0,\"sizeBytes\":67108864}|count must be between 1",
                "{\"poolId\":\"p1\",\"count\":1,\"sizeBytes\":67108865}|multiple of 1 MiB",
                "{\"poolId\":\"p1\",\"count\":1,\"sizeBytes\":1048576}|from 64 MiB",
                "{\"poolId\":\"p1\",\"count\":\"six\"}|invalid value for 'count'",
                "{\"poolId\":\"p1\",|malformed JSON",
            })
    void badRequestsGetProblemDetailsAndCreateNothing(String body, String reason)
            throws IOException {
        long before = chunkFiles();
        given().contentType(ContentType.JSON)
                .body(body)
                .when()
                .post("/chunks")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("status", equalTo(400))
                .body("detail", containsString(reason));
        assertEquals(before, chunkFiles());
    }

    @Test
    void chunksThatWouldNotFitAreRefusedWithWhatIsMissing() throws IOException {
        long before = chunkFiles();
        given().contentType(ContentType.JSON)
                .body("{\"poolId\":\"big\",\"count\":256,\"sizeBytes\":" + (1L << 40) + "}")
                .when()
                .post("/chunks")
                .then()
                .statusCode(507)
                .contentType("application/problem+json")
                .body("detail", containsString("missing"));
        assertEquals(before, chunkFiles());
    }

    @Test
    void sparseChunksCannotPromiseTheSameFreeSpaceTwice() throws Exception {
        Path folder = dataDir.toAbsolutePath().resolve("chunks");
        Files.createDirectories(folder);
        long free = Files.getFileStore(folder).getUsableSpace() - files.promisedBytes();
        // Each request alone fits (0.6 of what is free); both together do not.
        long size = (long) (free * 0.6) / MIB * MIB;
        assumeTrue(
                size >= 64 * MIB && size <= 1L << 40,
                "free space " + free + " gives no chunk size between 64 MiB and 1 TiB");
        String body = "{\"poolId\":\"space\",\"count\":1,\"sizeBytes\":" + size + "}";
        String first = provisionIds(body).get(0);
        try {
            long before = chunkFiles();
            given().contentType(ContentType.JSON)
                    .body(body)
                    .post("/chunks")
                    .then()
                    .statusCode(507)
                    .contentType("application/problem+json")
                    .body("detail", containsString("may still be filled by the sparse chunks"))
                    .body("detail", containsString("missing"));
            assertEquals(before, chunkFiles(), "nothing made");
        } finally {
            given().delete("/chunks/" + first + "?force=true").then().statusCode(204);
        }
        String again = provisionIds(body).get(0);
        given().delete("/chunks/" + again + "?force=true").then().statusCode(204);
    }

    @Test
    void unknownChunksAre404() {
        given().post("/chunks/nope/attach")
                .then()
                .statusCode(404)
                .body("detail", containsString("no chunk nope"));
        given().post("/chunks/nope/detach").then().statusCode(404);
        given().delete("/chunks/nope").then().statusCode(404);
    }

    @Test
    void healthIsUp() {
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }

    static List<String> provisionIds(String body) {
        return given().contentType(ContentType.JSON)
                .body(body)
                .post("/chunks")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath()
                .getList("chunks.chunkId", String.class);
    }

    private long chunkFiles() throws IOException {
        Path folder = dataDir.toAbsolutePath().resolve("chunks");
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.count();
        }
    }

    static long allocatedBytes(Path file) throws Exception {
        Process stat = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).start();
        String[] out = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
        stat.waitFor();
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }

    static void assertSameBytes(byte[] expected, byte[] actual) {
        assertArrayEquals(expected, actual);
    }
}
