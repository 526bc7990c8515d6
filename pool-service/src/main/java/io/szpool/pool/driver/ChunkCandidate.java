package io.szpool.pool.driver;

/**
 * An attached chunk of this host's crypto-device-service that no pool here owns, offered to an
 * import of a pool this host has no record of.
 *
 * @param poolId the pool the chunk belongs to at crypto-device-service (the id its key slot and the
 *     catalog know the pool by)
 * @param restored what a restore found of the chunk's image ({@code intact}, {@code damaged},
 *     {@code missing}), null for a chunk that was not restored
 */
public record ChunkCandidate(
        String chunkId, String poolId, long sizeBytes, String deviceAddress, String restored) {

    public static final String DAMAGED = "damaged";

    public boolean damaged() {
        return DAMAGED.equals(restored);
    }
}
