package io.szpool.catalog.api;

import io.szpool.catalog.chunk.Chunk;
import io.szpool.catalog.chunk.ChunkState;
import java.time.Instant;

/** A chunk as the API shows it. */
public record ChunkView(
        String chunkId,
        String poolId,
        String hostId,
        String path,
        long sizeBytes,
        boolean sparse,
        String cipher,
        String driver,
        ChunkState state,
        String deviceAddress,
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
                c.deviceAddress,
                c.createdAt,
                c.updatedAt);
    }
}
