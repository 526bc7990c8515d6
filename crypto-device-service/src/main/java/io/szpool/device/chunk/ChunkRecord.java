package io.szpool.device.chunk;

import java.time.Instant;

/**
 * What this host remembers of a chunk besides its file: whose it is, which request made it, and
 * whether its device should be up. Kept in the data folder so it survives a restart.
 *
 * @param restored for a chunk adopted from a restored backup folder, what the restore found of its
 *     image ({@code intact}, {@code damaged} or {@code missing}), so that pool import knows which
 *     chunks to rebuild; null for a chunk provisioned here
 */
public record ChunkRecord(
        String chunkId,
        String poolId,
        long sizeBytes,
        boolean sparse,
        String keyId,
        String requestId,
        boolean attached,
        Instant createdAt,
        String restored) {

    public ChunkRecord withAttached(boolean attached) {
        return new ChunkRecord(
                chunkId, poolId, sizeBytes, sparse, keyId, requestId, attached, createdAt,
                restored);
    }

    /** The same chunk as far as identity goes: id, pool, size and key. */
    public boolean sameChunkAs(ChunkRecord other) {
        return chunkId.equals(other.chunkId)
                && poolId.equals(other.poolId)
                && sizeBytes == other.sizeBytes
                && java.util.Objects.equals(keyId, other.keyId);
    }
}
