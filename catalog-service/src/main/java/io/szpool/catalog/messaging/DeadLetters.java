package io.szpool.catalog.messaging;

import io.szpool.events.Topics;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Puts one record that could not be cataloged on {@code szpool.dead-letters}, with the headers the
 * connector's own dead-letter strategy writes (reason, original topic, partition, offset). The
 * channels consume in batches, and the connector's strategy would send a whole failed batch; the
 * catalog dead-letters the one bad record itself and goes on with the others.
 */
@ApplicationScoped
public class DeadLetters {
    private final KafkaProducer<String, String> producer;

    public DeadLetters(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        producer =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                bootstrap,
                                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class,
                                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class,
                                ProducerConfig.ACKS_CONFIG,
                                "all"));
    }

    /** Returns once the broker has the dead letter, so the offset may then be committed. */
    public void send(ConsumerRecord<String, String> record, Throwable reason) {
        ProducerRecord<String, String> letter =
                new ProducerRecord<>(Topics.DEAD_LETTERS, null, record.key(), record.value());
        Headers headers = letter.headers();
        record.headers().forEach(headers::add);
        put(headers, "dead-letter-reason", String.valueOf(reason.getMessage()));
        if (reason.getCause() != null) {
            put(headers, "dead-letter-cause", String.valueOf(reason.getCause().getMessage()));
        }
        put(headers, "dead-letter-topic", record.topic());
        put(headers, "dead-letter-partition", Integer.toString(record.partition()));
        put(headers, "dead-letter-offset", Long.toString(record.offset()));
        try {
            producer.send(letter).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while dead-lettering", e);
        } catch (ExecutionException | TimeoutException e) {
            // Thrown on, the batch is nacked and the connector's strategy dead-letters it whole.
            throw new IllegalStateException("cannot write to " + Topics.DEAD_LETTERS, e);
        }
    }

    private static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    @PreDestroy
    void close() {
        producer.close();
    }
}
