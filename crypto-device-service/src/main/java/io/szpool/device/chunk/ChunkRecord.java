package io.szpool.device.chunk;

import java.time.Instant;

/**
 * What this host remembers of a chunk besides its file: whose it is, which request made it, and
 * whether its device should be up. Kept in the data folder so it survives a restart.
 */
public record ChunkRecord(
        String chunkId,
        String poolId,
        long sizeBytes,
        boolean sparse,
        String keyId,
        String requestId,
        boolean attached,
        Instant createdAt) {

    public ChunkRecord withAttached(boolean attached) {
        return new ChunkRecord(
                chunkId, poolId, sizeBytes, sparse, keyId, requestId, attached, createdAt);
    }
}
