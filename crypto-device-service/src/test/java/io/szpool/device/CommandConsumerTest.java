package io.szpool.device;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.Command;
import io.szpool.events.Command.DestroyChunks;
import io.szpool.events.Command.ProvisionChunks;
import io.szpool.testing.KafkaResource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Commands on {@code szpool.commands} on the real broker: a redelivered ProvisionChunks creates its
 * chunks once, and DestroyChunks is idempotent (a chunk that is gone already is skipped, not an
 * error that stops the rest of the command). Commands of one pool share a partition (key = pool
 * id), so a later command's effect shows that the earlier ones were carried out.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class CommandConsumerTest {
    private static final long SIZE = 64L << 20;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "szpool.host-id", defaultValue = "local")
    String hostId;

    @Test
    void aRedeliveredProvisionCreatesOnceAndDestroyingMissingChunksIsANoOp() throws Exception {
        String pool = "cmd-" + UUID.randomUUID();
        ProvisionChunks provision =
                new ProvisionChunks(UUID.randomUUID().toString(), hostId, pool, 2, SIZE, true);
        send(provision, provision);
        send(new ProvisionChunks(UUID.randomUUID().toString(), hostId, pool, 1, SIZE, true));
        List<String> ids = awaitChunks(pool, 3);
        assertEquals(3, ids.size(), "2 from the redelivered command, 1 from the next");

        // The missing chunk first: were it an error, the chunk after it would survive.
        DestroyChunks destroy =
                new DestroyChunks(
                        UUID.randomUUID().toString(),
                        hostId,
                        pool,
                        List.of("0123456789abcdef0123456789abcdef", ids.get(0)),
                        true);
        send(destroy, destroy);
        send(new ProvisionChunks(UUID.randomUUID().toString(), hostId, pool, 1, SIZE, true));
        List<String> left = awaitChunks(pool, 3);
        assertEquals(3, left.size());
        assertEquals(false, left.contains(ids.get(0)), "the named chunk was destroyed");
        send(new DestroyChunks(UUID.randomUUID().toString(), hostId, pool, left, true));
        awaitChunks(pool, 0);
    }

    private List<String> awaitChunks(String pool, int count) {
        return Awaitility.await()
                .atMost(Duration.ofSeconds(60))
                .until(
                        () ->
                                given().get("/chunks?pool=" + pool)
                                        .then()
                                        .statusCode(200)
                                        .extract()
                                        .jsonPath()
                                        .getList("chunks.chunkId", String.class),
                        l -> l.size() == count);
    }

    private void send(Command... commands) throws Exception {
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                                        StringSerializer.class))) {
            for (Command c : commands) {
                producer.send(CloudEventRecords.toProducerRecord(CloudEvent.of(c, hostId, "test")))
                        .get();
            }
        }
    }
}
