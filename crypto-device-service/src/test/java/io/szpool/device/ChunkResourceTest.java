package io.szpool.device;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.Topics;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.TopicReader;
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

/** Provisioning through the REST API, with the events checked on the real broker. */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class ChunkResourceTest {
    private static final long MIB = 1L << 20;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "szpool.device.data-dir")
    Path dataDir;

    @Test
    void provisionCreatesSparseChunkFilesAndAnnouncesEach() throws Exception {
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
                        .extract()
                        .jsonPath()
                        .getList("chunks.chunkId", String.class);

        for (String id : ids) {
            Path file = dataDir.toAbsolutePath().resolve("chunks").resolve(id);
            assertEquals(64 * MIB, Files.size(file));
            assertTrue(allocatedBytes(file) < MIB, "a new chunk file must be sparse");
            assertTrue(!file.getFileName().toString().contains(pool), "file names are opaque");
        }

        try (TopicReader reader = new TopicReader(bootstrap, Topics.DEVICE_EVENTS)) {
            List<ConsumerRecord<String, String>> records =
                    reader.records(r -> pool.equals(r.key()), 3, Duration.ofSeconds(30));
            assertEquals(3, records.size(), "one ChunkCreated per chunk, keyed by pool id");
            for (ConsumerRecord<String, String> r : records) {
                CloudEvent event = CloudEventRecords.fromRecord(r.headers(), r.value());
                assertEquals("io.szpool.chunk.created.v1", event.type());
                assertEquals("/hosts/local/crypto-device-service", event.source().toString());
                assertEquals(pool, event.subject());
                ChunkCreated created = (ChunkCreated) event.data();
                assertTrue(ids.contains(created.chunkId()));
                assertEquals(64 * MIB, created.sizeBytes());
                assertEquals(Cipher.AES_XTS_PLAIN64, created.cipher());
            }
        }
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
    void healthIsUp() {
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
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

    private static long allocatedBytes(Path file) throws Exception {
        Process stat = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).start();
        String[] out = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
        stat.waitFor();
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }
}
