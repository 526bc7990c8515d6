package io.szpool.catalog.messaging;

import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The Kafka side of the catalog: the two channels hand their polled batches to {@link EventIntake},
 * which checks that each record carries its topic's family of events.
 */
@ApplicationScoped
public class CatalogConsumers {
    private final EventIntake intake;

    public CatalogConsumers(EventIntake intake) {
        this.intake = intake;
    }

    // Blocking JDBC, so the handlers run on worker threads. Ordered: each of a channel's consumers
    // (its concurrency) applies its polled batches one after the other, so the events of its
    // partitions stay in order; the consumers run in parallel.
    @Incoming(CatalogChannels.FLEET_EVENTS)
    @Blocking
    public void fleetEvents(ConsumerRecords<String, String> records) {
        intake.take(records);
    }

    /** Commands are requests, not facts: they only go to the audit trail. */
    @Incoming(CatalogChannels.COMMANDS)
    @Blocking
    public void commands(ConsumerRecords<String, String> records) {
        intake.take(records);
    }
}
