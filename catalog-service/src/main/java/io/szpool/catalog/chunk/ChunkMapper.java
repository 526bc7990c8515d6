package io.szpool.catalog.chunk;

import io.szpool.catalog.ingest.BatchRows;
import io.szpool.events.DeviceEvent;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.DeviceEvent.ChunkDestroyed;
import io.szpool.events.DeviceEvent.ChunkDetached;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.EventCodec;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Applies facts about chunks to chunk rows: the one place where the wire meets the chunk entity.
 * Any topic may name a chunk first; the row is created as a placeholder and filled as the other
 * topics' events arrive. The rows are a batch's rows in memory ({@link BatchRows}), written back
 * once per batch.
 */
@ApplicationScoped
public class ChunkMapper {
    // EventCodec.wireName goes through Jackson; two of them for every ChunkCreated showed up.
    private static final Map<Enum<?>, String> WIRE = new ConcurrentHashMap<>();

    public void apply(BatchRows rows, DeviceEvent event, Instant at) {
        if (event instanceof ChunkCreated created) {
            Chunk chunk =
                    row(
                            rows,
                            created.chunkId(),
                            created.poolId(),
                            created.hostId(),
                            Rank.DEVICE,
                            at);
            chunk.path = created.path();
            chunk.sizeBytes = created.sizeBytes();
            chunk.sparse = created.sparse();
            chunk.cipher = wire(created.cipher());
            chunk.keyId = created.keyId();
            chunk.driver = wire(created.driver());
            device(chunk, ChunkState.PROVISIONED);
        } else if (event instanceof ChunkAttached attached) {
            Chunk chunk =
                    row(
                            rows,
                            attached.chunkId(),
                            attached.poolId(),
                            attached.hostId(),
                            Rank.DEVICE,
                            at);
            chunk.deviceAddress = attached.deviceAddress();
            device(chunk, ChunkState.ATTACHED);
        } else if (event instanceof ChunkDetached detached) {
            Chunk chunk =
                    row(
                            rows,
                            detached.chunkId(),
                            detached.poolId(),
                            detached.hostId(),
                            Rank.DEVICE,
                            at);
            chunk.deviceAddress = null;
            device(chunk, ChunkState.PROVISIONED);
        } else if (event instanceof ChunkFailed failed) {
            // A failed request that never made a chunk has no row to mark.
            if (failed.chunkId() != null) {
                Chunk chunk =
                        row(
                                rows,
                                failed.chunkId(),
                                failed.poolId(),
                                failed.hostId(),
                                Rank.DEVICE,
                                at);
                device(chunk, ChunkState.FAULTED);
            }
        } else if (event instanceof ChunkDestroyed destroyed) {
            Chunk chunk =
                    row(
                            rows,
                            destroyed.chunkId(),
                            destroyed.poolId(),
                            destroyed.hostId(),
                            Rank.DEVICE,
                            at);
            chunk.deviceAddress = null;
            device(chunk, ChunkState.DESTROYED);
        } else {
            throw new IllegalStateException("no mapping for " + event.getClass().getSimpleName());
        }
    }

    /** A vdev of the pool names these chunks (PoolCreated, PoolGrown, PoolImported). */
    public void inPool(
            BatchRows rows, Collection<String> chunkIds, String poolId, String hostId, Instant at) {
        for (String chunkId : chunkIds) {
            Chunk chunk = row(rows, chunkId, poolId, hostId, Rank.POOL, at);
            chunk.inPool = true;
            chunk.state = chunk.deriveState();
        }
    }

    /** The pool is gone and has released its chunks (PoolDestroyed). */
    public void released(BatchRows rows, Collection<String> chunkIds, Instant at) {
        for (String chunkId : chunkIds) {
            Chunk chunk = rows.chunk(chunkId);
            if (chunk != null) {
                chunk.inPool = false;
                chunk.state = chunk.deriveState();
                touch(chunk, at);
            }
        }
    }

    /**
     * One generation of the chunk is on a target. Keeps the highest generation, so an older
     * ChunkSynced never replaces a newer one.
     */
    public void synced(
            BatchRows rows,
            String chunkId,
            String poolId,
            String hostId,
            long generation,
            Instant at) {
        Chunk chunk = row(rows, chunkId, poolId, hostId, Rank.SYNC, at);
        if (chunk.lastSyncedGeneration == null || generation > chunk.lastSyncedGeneration) {
            chunk.lastSyncedGeneration = generation;
            chunk.lastSyncedAt = at;
        } else if (generation == chunk.lastSyncedGeneration && at.isAfter(chunk.lastSyncedAt)) {
            chunk.lastSyncedAt = at;
        }
    }

    /** The chunk row, created as a placeholder if no topic has named it before. */
    private static Chunk row(
            BatchRows rows, String chunkId, String poolId, String hostId, int rank, Instant at) {
        Chunk chunk = rows.chunk(chunkId);
        if (chunk == null) {
            chunk = new Chunk();
            chunk.chunkId = chunkId;
            chunk.poolId = poolId;
            chunk.hostId = hostId;
            chunk.ownerRank = rank;
            chunk.createdAt = at;
            chunk.updatedAt = at;
            chunk.state = chunk.deriveState();
            rows.add(chunk);
        } else if (rank >= chunk.ownerRank) {
            chunk.poolId = poolId;
            chunk.hostId = hostId;
            chunk.ownerRank = rank;
        }
        touch(chunk, at);
        return chunk;
    }

    private static void device(Chunk chunk, ChunkState state) {
        chunk.deviceState = state;
        chunk.state = chunk.deriveState();
    }

    // Timestamps only ever move outward, so they end the same whatever the order of arrival.
    private static void touch(Chunk chunk, Instant at) {
        if (at.isBefore(chunk.createdAt)) {
            chunk.createdAt = at;
        }
        if (at.isAfter(chunk.updatedAt)) {
            chunk.updatedAt = at;
        }
    }

    private static String wire(Enum<?> value) {
        return WIRE.computeIfAbsent(value, EventCodec::wireName);
    }
}
