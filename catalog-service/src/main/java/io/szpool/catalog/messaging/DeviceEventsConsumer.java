package io.szpool.catalog.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.DeviceEvent;
import io.szpool.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The Kafka side of the catalog for {@code szpool.device-events}: only DeviceEvent records belong
 * there.
 */
@ApplicationScoped
public class DeviceEventsConsumer {
    private final EventIntake intake;

    public DeviceEventsConsumer(EventIntake intake) {
        this.intake = intake;
    }

    // Hibernate ORM is blocking, so the handler runs on a worker thread, one polled batch at a
    // time (in order: the next batch waits for this one).
    @Incoming(CatalogChannels.DEVICE_EVENTS)
    @Blocking
    public void consume(ConsumerRecords<String, String> records) {
        intake.take(records, Topics.DEVICE_EVENTS, DeviceEvent.class);
    }
}
