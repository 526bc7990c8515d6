package io.szpool.sync.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.InvalidEventException;
import io.szpool.events.PoolEvent;
import io.szpool.events.PoolEvent.PoolGrown;
import io.szpool.events.Topics;
import io.szpool.service.HostConfig;
import io.szpool.sync.config.SyncConfig;
import io.szpool.sync.schedule.SyncScheduler;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Syncs a pool of this host after it grew: the new vdev's chunks are in no generation yet. The
 * request goes to the scheduler's queue (coalesced with a run going); the record is done once the
 * request is queued. Other pool events are not this service's business.
 */
@ApplicationScoped
public class PoolEventsConsumer {
    private final SyncScheduler scheduler;
    private final HostConfig host;
    private final SyncConfig config;

    public PoolEventsConsumer(SyncScheduler scheduler, HostConfig host, SyncConfig config) {
        this.scheduler = scheduler;
        this.host = host;
        this.config = config;
    }

    @Incoming(SyncChannels.POOL_EVENTS)
    @Blocking
    public void consume(ConsumerRecord<String, String> record) {
        CloudEvent event = CloudEventRecords.fromRecord(record.headers(), record.value());
        if (!(event.data() instanceof PoolEvent)) {
            throw new InvalidEventException(
                    event.type() + " does not belong on " + Topics.POOL_EVENTS);
        }
        if (event.data() instanceof PoolGrown grown
                && host.hostId().equals(grown.hostId())
                && config.schedule().afterGrowth()
                && config.defaultTarget().isPresent()) {
            scheduler.request(grown.poolId(), "grown to vdev " + grown.vdevIndex());
        }
    }
}
