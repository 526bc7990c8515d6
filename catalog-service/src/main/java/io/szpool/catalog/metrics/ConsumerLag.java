package io.szpool.catalog.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * How many records of each topic the catalog's consumer group has not committed yet: the end
 * offsets minus the group's committed offsets, read through the admin API. The Kafka client's own
 * lag metric exists only per live consumer and partition; this one is per topic and also says how
 * far behind a stopped or rebuilding catalog is.
 */
@ApplicationScoped
public class ConsumerLag {
    /** The consumer group of every catalog channel (application.properties). */
    public static final String GROUP = "szpool-catalog";

    private final String bootstrap;
    private Admin admin;
    private MultiGauge lag;

    public ConsumerLag(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap) {
        this.bootstrap = bootstrap;
    }

    void register(MeterRegistry registry) {
        lag =
                MultiGauge.builder("szpool.catalog.consumer.lag.records")
                        .description("records of the topic not yet committed by the catalog")
                        .register(registry);
    }

    /** Reads the offsets again; a broker that does not answer within seconds leaves the last. */
    synchronized void refresh() {
        try {
            if (admin == null) {
                admin =
                        Admin.create(
                                Map.of(
                                        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000,
                                        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000));
            }
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(GROUP)
                            .partitionsToOffsetAndMetadata()
                            .get(5, TimeUnit.SECONDS);
            Map<TopicPartition, ListOffsetsResultInfo> ends =
                    admin.listOffsets(
                                    committed.keySet().stream()
                                            .collect(
                                                    Collectors.toMap(
                                                            tp -> tp, tp -> OffsetSpec.latest())))
                            .all()
                            .get(5, TimeUnit.SECONDS);
            Map<String, Long> byTopic = new TreeMap<>();
            committed.forEach(
                    (tp, offset) -> {
                        ListOffsetsResultInfo end = ends.get(tp);
                        long behind =
                                end == null || offset == null
                                        ? 0
                                        : Math.max(0, end.offset() - offset.offset());
                        byTopic.merge(tp.topic(), behind, Long::sum);
                    });
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            byTopic.forEach((topic, n) -> rows.add(MultiGauge.Row.of(Tags.of("topic", topic), n)));
            lag.register(rows, true);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // A scrape must not fail because the broker is away; the last figures stay.
        }
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close();
        }
    }
}
