package io.szpool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The servers the test resources start are the real thing: a record goes through, SQL answers. */
class RealServersIT {

    @Test
    void brokerCarriesARecord() throws Exception {
        KafkaBroker broker = KafkaBroker.shared();
        System.out.println("Kafka broker ready in " + broker.startTime().toMillis() + " ms");
        String topic = "szpool.test-" + UUID.randomUUID();
        Map<String, Object> common = Map.of("bootstrap.servers", broker.bootstrapServers());
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(
                        merge(
                                common,
                                Map.of(
                                        ProducerConfig.ACKS_CONFIG, "all",
                                        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                                                StringSerializer.class,
                                        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                                                StringSerializer.class)))) {
            producer.send(new ProducerRecord<>(topic, "pool-1", "hello")).get();
        }
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(
                        merge(
                                common,
                                Map.of(
                                        ConsumerConfig.GROUP_ID_CONFIG,
                                        "t",
                                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                                        "earliest",
                                        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                                        StringDeserializer.class,
                                        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                                        StringDeserializer.class)))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    assertEquals("pool-1", r.key());
                    assertEquals("hello", new String(r.value().getBytes(StandardCharsets.UTF_8)));
                    return;
                }
            }
            throw new AssertionError("the record never came back from the broker");
        }
    }

    @Test
    void postgresAnswersSql() throws Exception {
        Postgres db = Postgres.shared();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
                ResultSet rs = c.createStatement().executeQuery("select version()")) {
            assertTrue(rs.next());
            assertTrue(rs.getString(1).startsWith("PostgreSQL"), rs.getString(1));
        }
    }

    private static Map<String, Object> merge(Map<String, Object> a, Map<String, Object> b) {
        Map<String, Object> m = new java.util.HashMap<>(a);
        m.putAll(b);
        return m;
    }
}
