package io.szpool.catalog.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.PoolEvent;
import io.szpool.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The Kafka side of the catalog for {@code szpool.pool-events}: only PoolEvent records belong
 * there.
 */
@ApplicationScoped
public class PoolEventsConsumer {
    private final EventIntake intake;

    public PoolEventsConsumer(EventIntake intake) {
        this.intake = intake;
    }

    // Hibernate ORM is blocking, so the handler runs on a worker thread, one polled batch at a
    // time (in order: the next batch waits for this one).
    @Incoming(CatalogChannels.POOL_EVENTS)
    @Blocking
    public void consume(ConsumerRecords<String, String> records) {
        intake.take(records, Topics.POOL_EVENTS, PoolEvent.class);
    }
}
