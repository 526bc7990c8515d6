package io.szpool.sync;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.events.CloudEvent;
import io.szpool.events.SyncEvent.ChunkSynced;
import io.szpool.events.SyncEvent.SyncCompleted;
import io.szpool.events.SyncEvent.SyncStarted;
import io.szpool.events.Topics;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.TopicReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** The REST story on the real broker: sync now, status, verify, restore, and the events. */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class SyncResourceTest {

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void syncStatusVerifyRestoreAndEvents() throws Exception {
        String pool = "rest-" + UUID.randomUUID().toString().substring(0, 8);
        Path chunks = Path.of("target/test-chunks").toAbsolutePath();
        Path target = Path.of("target/test-targets").toAbsolutePath().resolve(pool);
        try (TestPool p = new TestPool(pool, chunks, 3, 1 << 20)) {
            String body = "{\"target\":\"" + target + "\"}";
            given().contentType("application/json")
                    .body(body)
                    .post("/syncs/" + pool)
                    .then()
                    .statusCode(200)
                    .body("generation", equalTo(1))
                    .body("chunks", equalTo(3))
                    .body("chunksSent", equalTo(3));
            p.write(p.chunkIds.get(0), 4096, 4096);
            given().contentType("application/json")
                    .body(body)
                    .post("/syncs/" + pool)
                    .then()
                    .statusCode(200)
                    .body("generation", equalTo(2))
                    .body("chunksSent", equalTo(1));

            given().queryParam("target", target.toString())
                    .get("/syncs/" + pool)
                    .then()
                    .statusCode(200)
                    .body("generations", hasSize(2))
                    .body("generations[1].chunksSent", equalTo(1))
                    .body("lastRun.succeeded", equalTo(true));
            given().contentType("application/json")
                    .body(body)
                    .post("/syncs/" + pool + "/verify")
                    .then()
                    .statusCode(200)
                    .body("intact", equalTo(true))
                    .body("generation", equalTo(2));

            Path into = Path.of("target/test-restores").toAbsolutePath().resolve(pool);
            given().contentType("application/json")
                    .body("{\"target\":\"" + target + "\",\"into\":\"" + into + "\"}")
                    .post("/restores")
                    .then()
                    .statusCode(200)
                    .body("poolId", equalTo(pool))
                    .body("intact", equalTo(true));
            for (String id : p.chunkIds) {
                assertEquals(-1L, Files.mismatch(p.chunk(id), into.resolve("chunks").resolve(id)));
            }
            // A second restore into the same folder changes nothing and says why.
            given().contentType("application/json")
                    .body("{\"target\":\"" + target + "\",\"into\":\"" + into + "\"}")
                    .post("/restores")
                    .then()
                    .statusCode(409);

            try (TopicReader reader = new TopicReader(bootstrap, Topics.SYNC_EVENTS)) {
                List<CloudEvent> events =
                        reader.events(e -> pool.equals(e.subject()), 11, Duration.ofSeconds(30));
                long started = events.stream().filter(e -> e.data() instanceof SyncStarted).count();
                long synced = events.stream().filter(e -> e.data() instanceof ChunkSynced).count();
                List<SyncCompleted> completed =
                        events.stream()
                                .filter(e -> e.data() instanceof SyncCompleted)
                                .map(e -> (SyncCompleted) e.data())
                                .toList();
                assertEquals(2, started);
                assertEquals(4, synced, "3 chunks in generation 1, the changed one in 2");
                assertEquals(2, completed.size());
                assertEquals(2, completed.get(1).generation());
                for (CloudEvent e : events) {
                    assertFalse(e.toString().contains(new String(TestPool.PASSPHRASE)));
                }
            }
        }
    }

    @Test
    void badInputIsAProblem() {
        given().contentType("application/json")
                .body("{\"target\":\"ftp://nowhere/x\"}")
                .post("/syncs/some-pool")
                .then()
                .statusCode(400)
                .body("detail", containsString("unsupported target"));
        given().contentType("application/json")
                .body("{\"target\":\"rsync://u:secret@127.0.0.1/m/p\"}")
                .post("/syncs/some-pool")
                .then()
                .statusCode(400)
                .body("detail", not(containsString("secret")));
        given().contentType("application/json")
                .body("{\"target\":\"/tmp/x\"}")
                .post("/syncs/no-such-pool")
                .then()
                .statusCode(404);
    }

    @Test
    void badRestoreRequestsAreProblemsBeforeAnythingIsFetched() {
        String target = Path.of("target/test-targets/none").toAbsolutePath().toString();
        String[][] cases = {
            {"{\"into\":\"/tmp/x\"}", "needs 'target'"},
            {"{\"target\":\"" + target + "\"}", "needs 'into'"},
            {"{\"target\":\"" + target + "\",\"import\":true}", "needs 'pool'"},
            {
                "{\"target\":\"" + target + "\",\"into\":\"/tmp/x\",\"pool\":\"p\"}",
                "set \"import\": true"
            },
            {
                "{\"target\":\"" + target + "\",\"into\":\"/tmp/x\",\"generation\":0}",
                "counts from 1"
            },
            {"{\"target\":\"" + target + "\",\"into\":\"relative/x\"}", "absolute"},
            // The test profile has no pool-service (none): an import cannot run and says so.
            {
                "{\"target\":\"" + target + "\",\"import\":true,\"pool\":\"p\"}",
                "pool-service-url is none"
            },
        };
        for (String[] c : cases) {
            given().contentType("application/json")
                    .body(c[0])
                    .post("/restores")
                    .then()
                    .statusCode(400)
                    .body("detail", containsString(c[1]));
        }
    }
}
