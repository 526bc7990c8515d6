package io.szpool.events;

import static io.szpool.events.Fields.nonNegative;
import static io.szpool.events.Fields.required;

/**
 * What sync-service reports about backup generations and restores. {@code target} is always the
 * target's address without credentials.
 */
@Topic(Topics.SYNC_EVENTS)
public sealed interface SyncEvent extends Event {

    /** A sync run began capturing generation {@code generation} of a pool. */
    @EventType("io.szpool.sync.started.v1")
    record SyncStarted(String poolId, String hostId, long generation, String target)
            implements SyncEvent {
        public SyncStarted {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(generation, "generation");
            required(target, "target");
        }
    }

    /** One chunk of a generation is on the target. */
    @EventType("io.szpool.chunk.synced.v1")
    record ChunkSynced(
            String chunkId,
            String poolId,
            String hostId,
            long generation,
            String target,
            long bytesTransferred,
            String chunkDigest,
            long durationMs)
            implements SyncEvent {
        public ChunkSynced {
            required(chunkId, "chunkId");
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(generation, "generation");
            required(target, "target");
            nonNegative(bytesTransferred, "bytesTransferred");
            required(chunkDigest, "chunkDigest");
            nonNegative(durationMs, "durationMs");
        }
    }

    /**
     * A generation's manifest is written: the generation exists and restores.
     *
     * @param bytesReferenced chunk bytes the generation links from earlier ones instead of sending
     *     them (optional, added later; absent from older producers)
     * @param barrierMillis how long the pool's writes were held for the point-in-time capture
     *     (optional: absent for a capture of chunk files at rest, which holds nothing)
     */
    @EventType("io.szpool.sync.completed.v1")
    record SyncCompleted(
            String poolId,
            String hostId,
            long generation,
            String target,
            int chunks,
            long bytesTransferred,
            long durationMs,
            Long bytesReferenced,
            Long barrierMillis)
            implements SyncEvent {
        /** The first version's fields only. */
        public SyncCompleted(
                String poolId,
                String hostId,
                long generation,
                String target,
                int chunks,
                long bytesTransferred,
                long durationMs) {
            this(
                    poolId,
                    hostId,
                    generation,
                    target,
                    chunks,
                    bytesTransferred,
                    durationMs,
                    null,
                    null);
        }

        public SyncCompleted {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(generation, "generation");
            required(target, "target");
            nonNegative(chunks, "chunks");
            nonNegative(bytesTransferred, "bytesTransferred");
            nonNegative(durationMs, "durationMs");
            if (bytesReferenced != null) {
                nonNegative(bytesReferenced, "bytesReferenced");
            }
            if (barrierMillis != null) {
                nonNegative(barrierMillis, "barrierMillis");
            }
        }
    }

    /** A sync run stopped without writing its manifest; earlier generations are untouched. */
    @EventType("io.szpool.sync.failed.v1")
    record SyncFailed(String poolId, String hostId, long generation, String target, String reason)
            implements SyncEvent {
        public SyncFailed {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(generation, "generation");
            required(target, "target");
            required(reason, "reason");
        }
    }

    /** A restore of a generation began on a host. */
    @EventType("io.szpool.restore.started.v1")
    record RestoreStarted(String poolId, String hostId, long generation, String target)
            implements SyncEvent {
        public RestoreStarted {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(generation, "generation");
            required(target, "target");
        }
    }

    /** One chunk is back on the host; {@code repaired} when it was rebuilt from parity. */
    @EventType("io.szpool.chunk.restored.v1")
    record ChunkRestored(
            String chunkId, String poolId, String hostId, long generation, boolean repaired)
            implements SyncEvent {
        public ChunkRestored {
            required(chunkId, "chunkId");
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(generation, "generation");
        }
    }

    /** A restore finished and the pool is imported. */
    @EventType("io.szpool.restore.completed.v1")
    record RestoreCompleted(
            String poolId,
            String hostId,
            long generation,
            int chunksRestored,
            int chunksRepaired,
            long durationMs)
            implements SyncEvent {
        public RestoreCompleted {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(generation, "generation");
            nonNegative(chunksRestored, "chunksRestored");
            nonNegative(chunksRepaired, "chunksRepaired");
            nonNegative(durationMs, "durationMs");
        }
    }

    /**
     * A restore stopped before the pool was imported and repaired: the generation could not be
     * rebuilt (more than two bad chunks in a vdev, refused before any change), or a step at
     * crypto-device-service or pool-service failed. The restored chunk files are kept.
     *
     * @param step where it stopped: {@code fetch}, {@code check}, {@code adopt}, {@code import} or
     *     {@code scrub}
     */
    @EventType("io.szpool.restore.failed.v1")
    record RestoreFailed(
            String poolId,
            String hostId,
            long generation,
            String target,
            String step,
            String reason)
            implements SyncEvent {
        public RestoreFailed {
            required(poolId, "poolId");
            required(hostId, "hostId");
            nonNegative(generation, "generation");
            required(target, "target");
            required(step, "step");
            required(reason, "reason");
        }
    }
}
