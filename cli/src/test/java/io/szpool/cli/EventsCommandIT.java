package io.szpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.szpool.cli.SzpoolCliTest.Run;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.PoolEvent;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.Ports;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** `szpool events` against the real broker of testing/: what was on the topics is what prints. */
class EventsCommandIT {
    static String kafka;

    @BeforeAll
    static void broker() {
        kafka = KafkaBroker.shared().bootstrapServers();
    }

    /**
     * Publishes PoolExported events of a new pool id, acknowledged by the broker, and returns it.
     */
    static String publish(int count) throws Exception {
        String poolId = UUID.randomUUID().toString();
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                kafka,
                                ProducerConfig.ACKS_CONFIG,
                                "all",
                                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class,
                                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class))) {
            for (int i = 0; i < count; i++) {
                CloudEvent event =
                        CloudEvent.of(
                                new PoolEvent.PoolExported(poolId, "host-a", "tank" + i),
                                "host-a",
                                "pool-service");
                producer.send(CloudEventRecords.toProducerRecord(event)).get();
            }
        }
        return poolId;
    }

    @Test
    void withoutIdleTimeEveryEventAlreadyThereIsPrinted() throws Exception {
        // --idle PT0S: an idle clock that started before the group join would end the command
        // before it read anything; every one of these events must print all the same.
        String poolId = publish(5);
        String other = publish(2);
        Run r = SzpoolCliTest.run("events", "--kafka", kafka, "--pool", poolId, "--idle", "PT0S");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(5, lines.size(), r.out());
        for (int i = 0; i < 5; i++) {
            assertTrue(lines.get(i).contains("io.szpool.pool.exported.v1"), lines.get(i));
            assertTrue(lines.get(i).contains("\"name\":\"tank" + i + "\""), "in order");
        }
        assertTrue(!r.out().contains(other), "--pool shows only that pool's events");
    }

    @Test
    void jsonPrintsOneObjectPerEvent() throws Exception {
        String poolId = publish(3);
        Run r =
                SzpoolCliTest.run(
                        "events", "--kafka", kafka, "--pool", poolId, "--idle", "PT0S", "--json");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.out());
        for (String line : lines) {
            JsonNode event = Rest.JSON.readTree(line);
            assertEquals("io.szpool.pool.exported.v1", event.path("type").asText());
            assertEquals(poolId, event.path("subject").asText());
            assertEquals(poolId, event.path("data").path("poolId").asText());
        }
    }

    @Test
    void aBrokerThatDoesNotAnswerIsOneLineWithExitCode3() {
        Run r =
                SzpoolCliTest.run(
                        "events", "--kafka", "127.0.0.1:" + Ports.free(), "--idle", "PT0S");
        assertEquals(CliException.UNREACHABLE, r.exit(), r.err());
        assertTrue(r.err().startsWith("szpool: cannot reach Kafka at 127.0.0.1:"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals("", r.out());
    }
}
