package io.szpool.catalog.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.SyncEvent;
import io.szpool.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The Kafka side of the catalog for {@code szpool.sync-events}: only SyncEvent records belong
 * there.
 */
@ApplicationScoped
public class SyncEventsConsumer {
    private final EventIntake intake;

    public SyncEventsConsumer(EventIntake intake) {
        this.intake = intake;
    }

    // Hibernate ORM is blocking, so the handler runs on a worker thread, one polled batch at a
    // time (in order: the next batch waits for this one).
    @Incoming(CatalogChannels.SYNC_EVENTS)
    @Blocking
    public void consume(ConsumerRecords<String, String> records) {
        intake.take(records, Topics.SYNC_EVENTS, SyncEvent.class);
    }
}
