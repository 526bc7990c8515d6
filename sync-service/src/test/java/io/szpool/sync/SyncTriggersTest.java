package io.szpool.sync;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.PoolEvent.PoolGrown;
import io.szpool.events.SyncEvent.SyncCompleted;
import io.szpool.events.Topics;
import io.szpool.events.Vocabulary;
import io.szpool.service.HostConfig;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.TopicReader;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Syncs nobody asked for through REST: after a {@code PoolGrown} of this host on the real broker,
 * and on a pool's own schedule; both land on the default target as SyncCompleted.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class SyncTriggersTest {

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject HostConfig host;

    @Test
    void poolGrownOfThisHostSyncsThePool() throws Exception {
        String pool = "grown-" + UUID.randomUUID().toString().substring(0, 8);
        String other = "other-" + UUID.randomUUID().toString().substring(0, 8);
        try (TestPool p = new TestPool(pool, chunks(), 2, 1 << 20);
                TestPool o = new TestPool(other, chunks(), 2, 1 << 20);
                KafkaProducer<String, String> producer = producer()) {
            // Another host's pool grew: not ours to sync.
            producer.send(CloudEventRecords.toProducerRecord(grown(other, "host-elsewhere"))).get();
            producer.send(CloudEventRecords.toProducerRecord(grown(pool, host.hostId()))).get();
            try (TopicReader reader = new TopicReader(bootstrap, Topics.SYNC_EVENTS)) {
                List<CloudEvent> done =
                        reader.events(
                                e ->
                                        (pool.equals(e.subject()) || other.equals(e.subject()))
                                                && e.data() instanceof SyncCompleted,
                                1,
                                Duration.ofSeconds(60));
                SyncCompleted c = (SyncCompleted) done.get(0).data();
                assertEquals(pool, c.poolId());
                assertEquals(1, c.generation());
                assertTrue(c.target().endsWith("test-targets/default"), c.target());
                assertEquals(0L, (long) c.bytesReferenced(), "a first generation links nothing");
            }
        }
    }

    @Test
    void aPoolsOwnScheduleSyncsItAgainAndAgain() throws Exception {
        String pool = "sched-" + UUID.randomUUID().toString().substring(0, 8);
        try (TestPool p = new TestPool(pool, chunks(), 2, 1 << 20)) {
            given().contentType("application/json")
                    .body("{\"every\":\"PT1S\"}")
                    .put("/syncs/" + pool + "/schedule")
                    .then()
                    .statusCode(200)
                    .body("every", equalTo("PT1S"))
                    .body("own", equalTo(true));
            try (TopicReader reader = new TopicReader(bootstrap, Topics.SYNC_EVENTS)) {
                List<CloudEvent> done =
                        reader.events(
                                e -> pool.equals(e.subject()) && e.data() instanceof SyncCompleted,
                                2,
                                Duration.ofSeconds(60));
                assertEquals(1, ((SyncCompleted) done.get(0).data()).generation());
                assertEquals(2, ((SyncCompleted) done.get(1).data()).generation());
                // Nothing changed between the runs: the second one links every chunk.
                assertEquals(
                        2L << 20, (long) ((SyncCompleted) done.get(1).data()).bytesReferenced());
            } finally {
                given().contentType("application/json")
                        .body("{\"every\":\"PT0S\"}")
                        .put("/syncs/" + pool + "/schedule")
                        .then()
                        .statusCode(200)
                        .body("nextRunAt", equalTo(null));
            }
        }
    }

    @Test
    void aBadScheduleIsAProblem() {
        given().contentType("application/json")
                .body("{\"every\":\"soon\"}")
                .put("/syncs/p1/schedule")
                .then()
                .statusCode(400)
                .body("detail", containsString("ISO-8601"));
        given().contentType("application/json")
                .body("{\"every\":\"-PT1S\"}")
                .put("/syncs/p1/schedule")
                .then()
                .statusCode(400);
        given().contentType("application/json")
                .body("{\"every\":\"PT1M\"}")
                .put("/syncs/bad%20id/schedule")
                .then()
                .statusCode(400);
        given().get("/syncs/p1/schedule")
                .then()
                .statusCode(200)
                .body("every", equalTo("PT15M"))
                .body("own", equalTo(false));
    }

    private static Path chunks() {
        return Path.of("target/test-chunks").toAbsolutePath();
    }

    private static CloudEvent grown(String pool, String hostId) {
        return CloudEvent.of(
                new PoolGrown(
                        pool,
                        hostId,
                        1,
                        Vocabulary.Layout.RAIDZ2,
                        List.of("c1", "c2"),
                        1L << 20,
                        2L << 20,
                        Vocabulary.GrowthTrigger.OPERATOR),
                hostId,
                "pool-service");
    }

    private KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }
}
