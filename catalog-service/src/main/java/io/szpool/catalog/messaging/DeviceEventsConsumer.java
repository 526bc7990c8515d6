package io.szpool.catalog.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.DeviceEvent;
import io.szpool.events.InvalidEventException;
import io.szpool.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The Kafka side of the catalog for {@code szpool.device-events}: reads a record into a typed event
 * and hands it to the handler. Anything thrown nacks the record, which the channel's
 * dead-letter-queue strategy moves to {@code szpool.dead-letters} with the message as reason.
 */
@ApplicationScoped
public class DeviceEventsConsumer {
    private final CatalogEventHandler handler;

    public DeviceEventsConsumer(CatalogEventHandler handler) {
        this.handler = handler;
    }

    // Hibernate ORM is blocking, so the handler runs on a worker thread, one record at a time.
    @Incoming(CatalogChannels.DEVICE_EVENTS)
    @Blocking
    public void consume(ConsumerRecord<String, String> record) {
        CloudEvent event = CloudEventRecords.fromRecord(record.headers(), record.value());
        if (!(event.data() instanceof DeviceEvent)) {
            throw new InvalidEventException(
                    event.type() + " does not belong on " + Topics.DEVICE_EVENTS);
        }
        handler.handle(event);
    }
}
