package io.szpool.catalog.api;

import io.szpool.catalog.chunk.Chunk;
import io.szpool.catalog.chunk.ChunkState;
import java.time.Instant;

/**
 * A chunk as the API shows it; never its key material. Fields only another topic knows are null
 * until that topic's event arrives.
 */
public record ChunkView(
        String chunkId,
        String poolId,
        String hostId,
        String path,
        Long sizeBytes,
        Boolean sparse,
        String cipher,
        String driver,
        ChunkState state,
        boolean inPool,
        String deviceAddress,
        Long lastSyncedGeneration,
        Instant lastSyncedAt,
        Instant createdAt,
        Instant updatedAt) {

    static ChunkView of(Chunk c) {
        return new ChunkView(
                c.chunkId,
                c.poolId,
                c.hostId,
                c.path,
                c.sizeBytes,
                c.sparse,
                c.cipher,
                c.driver,
                c.state,
                c.inPool,
                c.deviceAddress,
                c.lastSyncedGeneration,
                c.lastSyncedAt,
                c.createdAt,
                c.updatedAt);
    }
}
