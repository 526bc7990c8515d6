package io.szpool.catalog.messaging;

import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.catalog.metrics.CatalogMetrics;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.Event;
import io.szpool.events.InvalidEventException;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What every channel adapter does with a record: read it into a typed event, check that it belongs
 * on the topic it came from, hand it to the handler and count it. Anything thrown nacks the record,
 * which the channel's dead-letter-queue strategy moves to {@code szpool.dead-letters} with the
 * message as reason.
 */
@ApplicationScoped
public class EventIntake {
    private final CatalogEventHandler handler;
    private final CatalogMetrics metrics;

    public EventIntake(CatalogEventHandler handler, CatalogMetrics metrics) {
        this.handler = handler;
        this.metrics = metrics;
    }

    public void take(
            ConsumerRecord<String, String> record, String topic, Class<? extends Event> family) {
        try {
            CloudEvent event = CloudEventRecords.fromRecord(record.headers(), record.value());
            if (!family.isInstance(event.data())) {
                throw new InvalidEventException(event.type() + " does not belong on " + topic);
            }
            handler.handle(event);
            metrics.consumed(topic);
        } catch (RuntimeException e) {
            metrics.deadLettered(topic);
            throw e;
        }
    }
}
