package io.szpool.catalog.messaging;

import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.catalog.metrics.CatalogMetrics;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.Command;
import io.szpool.events.DeviceEvent;
import io.szpool.events.Event;
import io.szpool.events.InvalidEventException;
import io.szpool.events.PoolEvent;
import io.szpool.events.SyncEvent;
import io.szpool.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.jboss.logging.Logger;

/**
 * What every channel adapter does with a polled batch of records: read each into a typed event and
 * check that it belongs on the topic it came from, apply the batch in one transaction and count it.
 * A record that cannot be read goes to {@code szpool.dead-letters} with the reason; if the batch's
 * transaction fails, its halves are applied apart (and theirs, down to single events), so that only
 * the event that fails is dead-lettered and the others are cataloged.
 */
@ApplicationScoped
public class EventIntake {
    private static final Logger LOG = Logger.getLogger(EventIntake.class);

    private final CatalogEventHandler handler;
    private final CatalogMetrics metrics;
    private final DeadLetters deadLetters;

    public EventIntake(
            CatalogEventHandler handler, CatalogMetrics metrics, DeadLetters deadLetters) {
        this.handler = handler;
        this.metrics = metrics;
        this.deadLetters = deadLetters;
    }

    /** The family of events each topic the catalog reads may carry. */
    private static final Map<String, Class<? extends Event>> FAMILIES =
            Map.of(
                    Topics.DEVICE_EVENTS, DeviceEvent.class,
                    Topics.POOL_EVENTS, PoolEvent.class,
                    Topics.SYNC_EVENTS, SyncEvent.class,
                    Topics.COMMANDS, Command.class);

    /** A polled batch, whose records may come from several topics. */
    public void take(ConsumerRecords<String, String> records) {
        List<CloudEvent> events = new ArrayList<>(records.count());
        List<ConsumerRecord<String, String>> sources = new ArrayList<>(records.count());
        for (ConsumerRecord<String, String> record : records) {
            try {
                CloudEvent event = CloudEventRecords.fromRecord(record.headers(), record.value());
                Class<? extends Event> family = FAMILIES.get(record.topic());
                if (family == null || !family.isInstance(event.data())) {
                    throw new InvalidEventException(
                            event.type() + " does not belong on " + record.topic());
                }
                events.add(event);
                sources.add(record);
            } catch (RuntimeException e) {
                deadLetter(record, e);
            }
        }
        if (!events.isEmpty()) {
            apply(events, sources);
        }
    }

    /**
     * Applies events in one transaction; if it fails, each half again, down to the one event that
     * fails, which is dead-lettered. One bad event in a batch of n thus costs about 2 log2(n)
     * transactions instead of n, and a transient failure (a timeout, a lost connection) a few
     * retried halves. The halves go in order, so events of a pool still apply in order.
     */
    private void apply(List<CloudEvent> events, List<ConsumerRecord<String, String>> sources) {
        try {
            // The log keeps each payload as its record carried it.
            handler.handleAll(events, sources.stream().map(ConsumerRecord::value).toList());
            Map<String, Integer> perTopic = new HashMap<>();
            sources.forEach(r -> perTopic.merge(r.topic(), 1, Integer::sum));
            perTopic.forEach(metrics::consumed);
        } catch (RuntimeException failed) {
            if (events.size() == 1) {
                deadLetter(sources.get(0), failed);
                return;
            }
            int half = events.size() / 2;
            LOG.debugf(failed, "a batch of %d failed; its halves apart", events.size());
            apply(events.subList(0, half), sources.subList(0, half));
            apply(events.subList(half, events.size()), sources.subList(half, sources.size()));
        }
    }

    private void deadLetter(ConsumerRecord<String, String> record, Exception e) {
        deadLetters.send(record, e);
        metrics.deadLettered(record.topic());
    }
}
