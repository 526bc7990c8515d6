package io.szpool.catalog.chunk;

import io.szpool.events.DeviceEvent;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.DeviceEvent.ChunkDestroyed;
import io.szpool.events.DeviceEvent.ChunkDetached;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.EventCodec;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

/** Applies device events to chunk rows: the one place where the wire meets the entity. */
@ApplicationScoped
public class ChunkMapper {

    public void apply(DeviceEvent event, Instant at) {
        if (event instanceof ChunkCreated created) {
            Chunk chunk = findOrNew(created.chunkId(), at);
            chunk.poolId = created.poolId();
            chunk.hostId = created.hostId();
            chunk.path = created.path();
            chunk.sizeBytes = created.sizeBytes();
            chunk.sparse = created.sparse();
            chunk.cipher = wire(created.cipher());
            chunk.keyId = created.keyId();
            chunk.driver = wire(created.driver());
            if (chunk.state == null) {
                chunk.state = ChunkState.PROVISIONED;
            }
            chunk.updatedAt = at;
            chunk.persist();
        } else if (event instanceof ChunkAttached attached) {
            Chunk chunk = existing(attached.chunkId(), event);
            chunk.deviceAddress = attached.deviceAddress();
            chunk.state = ChunkState.ATTACHED;
            chunk.updatedAt = at;
        } else if (event instanceof ChunkDetached detached) {
            Chunk chunk = existing(detached.chunkId(), event);
            chunk.deviceAddress = null;
            chunk.state = ChunkState.PROVISIONED;
            chunk.updatedAt = at;
        } else if (event instanceof ChunkFailed failed) {
            // A failed request that never made a chunk has no row to mark.
            if (failed.chunkId() != null) {
                Chunk chunk = Chunk.findById(failed.chunkId());
                if (chunk != null) {
                    chunk.state = ChunkState.FAULTED;
                    chunk.updatedAt = at;
                }
            }
        } else if (event instanceof ChunkDestroyed destroyed) {
            Chunk chunk = existing(destroyed.chunkId(), event);
            chunk.deviceAddress = null;
            chunk.state = ChunkState.DESTROYED;
            chunk.updatedAt = at;
        } else {
            throw new IllegalStateException("no mapping for " + event.getClass().getSimpleName());
        }
    }

    private static Chunk findOrNew(String chunkId, Instant at) {
        Chunk chunk = Chunk.findById(chunkId);
        if (chunk == null) {
            chunk = new Chunk();
            chunk.chunkId = chunkId;
            chunk.createdAt = at;
        }
        return chunk;
    }

    private static Chunk existing(String chunkId, DeviceEvent event) {
        Chunk chunk = Chunk.findById(chunkId);
        if (chunk == null) {
            // Events of one pool arrive in order, so a chunk event without ChunkCreated is an error
            // of its producer, worth a dead letter rather than a row with holes.
            throw new IllegalArgumentException(
                    event.getClass().getSimpleName() + " for unknown chunk " + chunkId);
        }
        return chunk;
    }

    private static String wire(Enum<?> value) {
        return EventCodec.wireName(value);
    }
}
