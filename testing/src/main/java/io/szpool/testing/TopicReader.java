package io.szpool.testing;

import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a topic from its beginning the way any consumer would, for tests to assert on. */
public final class TopicReader implements AutoCloseable {
    private final KafkaConsumer<String, String> consumer;

    public TopicReader(String bootstrapServers, String topic) {
        consumer =
                new KafkaConsumer<>(
                        Map.of(
                                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                bootstrapServers,
                                ConsumerConfig.GROUP_ID_CONFIG,
                                "test-" + UUID.randomUUID(),
                                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                                "earliest",
                                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                                false,
                                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                                StringDeserializer.class,
                                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                                StringDeserializer.class));
        consumer.subscribe(List.of(topic));
    }

    /** Raw records matching {@code filter}, until {@code count} came or the timeout passed. */
    public List<ConsumerRecord<String, String>> records(
            Predicate<ConsumerRecord<String, String>> filter, int count, Duration timeout) {
        List<ConsumerRecord<String, String>> found = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (found.size() < count && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                if (filter.test(r)) {
                    found.add(r);
                }
            }
        }
        return found;
    }

    /** CloudEvents matching {@code filter}; records that are not szpool events are skipped. */
    public List<CloudEvent> events(Predicate<CloudEvent> filter, int count, Duration timeout) {
        List<CloudEvent> found = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (found.size() < count && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                CloudEvent event;
                try {
                    event = CloudEventRecords.fromRecord(r.headers(), r.value());
                } catch (RuntimeException notAnEvent) {
                    continue;
                }
                if (filter.test(event)) {
                    found.add(event);
                }
            }
        }
        return found;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
