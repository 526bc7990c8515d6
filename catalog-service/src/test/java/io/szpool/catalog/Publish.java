package io.szpool.catalog;

import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** Puts records on the real topics as the services would, each one acknowledged by the broker. */
final class Publish {
    private Publish() {}

    static void events(String bootstrap, List<CloudEvent> events)
            throws InterruptedException, ExecutionException {
        records(bootstrap, events.stream().map(CloudEventRecords::toProducerRecord).toList());
    }

    static void records(String bootstrap, List<ProducerRecord<String, String>> records)
            throws InterruptedException, ExecutionException {
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                                        StringSerializer.class))) {
            for (ProducerRecord<String, String> record : records) {
                producer.send(record).get();
            }
        }
    }
}
