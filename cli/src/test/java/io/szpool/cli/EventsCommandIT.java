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
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

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
        return publish(UUID.randomUUID().toString(), 0, count);
    }

    /** Publishes events named tankFIRST... of {@code poolId}, each acknowledged by the broker. */
    static String publish(String poolId, int first, int count) throws Exception {
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
            for (int i = first; i < first + count; i++) {
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
    void followKeepsPrintingEventsPublishedAfterEverythingThereWasPrinted() throws Exception {
        String poolId = UUID.randomUUID().toString();
        StringWriter out = new StringWriter();
        CommandLine cli = Szpool.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(new StringWriter(), true));
        // --idle PT0S too: a reader that honoured it would stop once the first event is printed.
        Thread reader =
                new Thread(
                        () ->
                                cli.execute(
                                        "events",
                                        "--kafka",
                                        kafka,
                                        "--pool",
                                        poolId,
                                        "--follow",
                                        "--idle",
                                        "PT0S"),
                        "szpool-events-follow");
        reader.setDaemon(true);
        reader.start();
        try {
            publish(poolId, 0, 1);
            awaitLines(out, 1);
            publish(poolId, 1, 2);
            List<String> lines = awaitLines(out, 3);
            assertEquals(3, lines.size(), out.toString());
            assertTrue(lines.get(2).contains("\"name\":\"tank2\""), lines.get(2));
            assertTrue(reader.isAlive(), "--follow goes on until interrupted");
        } finally {
            reader.interrupt();
            reader.join(60_000);
        }
    }

    /** Waits (bounded, not timed) until the reader printed {@code count} lines. */
    private static List<String> awaitLines(StringWriter out, int count) throws Exception {
        for (int i = 0; i < 1200 && out.toString().lines().count() < count; i++) {
            Thread.sleep(100);
        }
        return out.toString().lines().toList();
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
