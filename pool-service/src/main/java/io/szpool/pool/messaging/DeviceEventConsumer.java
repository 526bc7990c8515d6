package io.szpool.pool.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.DeviceEvent;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.InvalidEventException;
import io.szpool.events.Topics;
import io.szpool.pool.engine.PoolManager;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Hands this host's ChunkAttached and ChunkFailed events to the pool sagas. Other device events
 * pass by. The offset is committed after the handler saved what it learned, so a restart replays
 * what it had not yet recorded. Blocking: the handler writes state files and opens devices.
 */
@ApplicationScoped
public class DeviceEventConsumer {
    private final PoolManager pools;

    public DeviceEventConsumer(PoolManager pools) {
        this.pools = pools;
    }

    @Incoming(PoolChannels.DEVICE_EVENTS)
    @Blocking
    public void consume(ConsumerRecord<String, String> record) throws IOException {
        CloudEvent event = CloudEventRecords.fromRecord(record.headers(), record.value());
        if (!(event.data() instanceof DeviceEvent deviceEvent)) {
            throw new InvalidEventException(
                    event.type() + " does not belong on " + Topics.DEVICE_EVENTS);
        }
        if (deviceEvent instanceof ChunkAttached attached) {
            pools.onChunkAttached(attached);
        } else if (deviceEvent instanceof ChunkFailed failed) {
            pools.onChunkFailed(failed);
        }
    }
}
