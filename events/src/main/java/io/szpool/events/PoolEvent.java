package io.szpool.events;

import static io.szpool.events.Fields.list;
import static io.szpool.events.Fields.nonNegative;
import static io.szpool.events.Fields.optionalList;
import static io.szpool.events.Fields.positive;
import static io.szpool.events.Fields.required;

import io.szpool.events.Vocabulary.GrowthTrigger;
import io.szpool.events.Vocabulary.Health;
import io.szpool.events.Vocabulary.Layout;
import java.util.List;

/** What pool-service reports about pools. */
@Topic(Topics.POOL_EVENTS)
public sealed interface PoolEvent extends Event {

    /** A pool exists; {@code vdevs} lists each vdev's chunk ids in column order. */
    @EventType("io.szpool.pool.created.v1")
    record PoolCreated(
            String poolId,
            String hostId,
            String name,
            Layout layout,
            int width,
            List<List<String>> vdevs,
            long chunkSizeBytes,
            long sizeBytes)
            implements PoolEvent {
        public PoolCreated {
            required(poolId, "poolId");
            required(hostId, "hostId");
            required(name, "name");
            required(layout, "layout");
            positive(width, "width");
            vdevs = list(vdevs, "vdevs").stream().map(List::copyOf).toList();
            nonNegative(chunkSizeBytes, "chunkSizeBytes");
            nonNegative(sizeBytes, "sizeBytes");
        }
    }

    /** A vdev was added to a pool. */
    @EventType("io.szpool.pool.grown.v1")
    record PoolGrown(
            String poolId,
            String hostId,
            int vdevIndex,
            Layout layout,
            List<String> chunkIds,
            long sizeBytesBefore,
            long sizeBytesAfter,
            GrowthTrigger trigger)
            implements PoolEvent {
        public PoolGrown {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(vdevIndex, "vdevIndex");
            required(layout, "layout");
            chunkIds = list(chunkIds, "chunkIds");
            nonNegative(sizeBytesBefore, "sizeBytesBefore");
            nonNegative(sizeBytesAfter, "sizeBytesAfter");
            required(trigger, "trigger");
        }
    }

    /** A pool's allocated share crossed the alert threshold. */
    @EventType("io.szpool.pool.capacity-alert.v1")
    record PoolCapacityAlert(
            String poolId, String hostId, long sizeBytes, long allocatedBytes, int thresholdPercent)
            implements PoolEvent {
        public PoolCapacityAlert {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(sizeBytes, "sizeBytes");
            nonNegative(allocatedBytes, "allocatedBytes");
            positive(thresholdPercent, "thresholdPercent");
        }
    }

    /** A pool's health changed, e.g. a device was faulted or a resilver finished. */
    @EventType("io.szpool.pool.health-changed.v1")
    record PoolHealthChanged(
            String poolId, String hostId, Health previous, Health health, String reason)
            implements PoolEvent {
        public PoolHealthChanged {
            required(poolId, "poolId");
            required(hostId, "hostId");
            required(health, "health");
        }
    }

    /** A scrub finished. */
    @EventType("io.szpool.pool.scrubbed.v1")
    record PoolScrubbed(
            String poolId,
            String hostId,
            long bytesScanned,
            long errorsRepaired,
            long errorsUnrecoverable,
            long durationMs)
            implements PoolEvent {
        public PoolScrubbed {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(bytesScanned, "bytesScanned");
            nonNegative(errorsRepaired, "errorsRepaired");
            nonNegative(errorsUnrecoverable, "errorsUnrecoverable");
            nonNegative(durationMs, "durationMs");
        }
    }

    /** A pool was assembled from its devices on a host. */
    @EventType("io.szpool.pool.imported.v1")
    record PoolImported(
            String poolId, String hostId, String name, Health health, List<String> chunkIds)
            implements PoolEvent {
        public PoolImported {
            required(poolId, "poolId");
            required(hostId, "hostId");
            required(name, "name");
            required(health, "health");
            chunkIds = optionalList(chunkIds);
        }
    }

    /** A pool was flushed and released; its devices may move to another host. */
    @EventType("io.szpool.pool.exported.v1")
    record PoolExported(String poolId, String hostId, String name) implements PoolEvent {
        public PoolExported {
            required(poolId, "poolId");
            required(hostId, "hostId");
            required(name, "name");
        }
    }

    /** A pool is gone; its chunks are released for destruction. */
    @EventType("io.szpool.pool.destroyed.v1")
    record PoolDestroyed(String poolId, String hostId, String name) implements PoolEvent {
        public PoolDestroyed {
            required(poolId, "poolId");
            required(hostId, "hostId");
            required(name, "name");
        }
    }
}
