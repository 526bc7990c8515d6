package io.szpool.catalog.chunk;

import java.time.Instant;

/**
 * A chunk row of the catalog. Device, pool and sync facts are kept in their own columns, because
 * each comes from its own topic; {@link #state} is derived from them (see {@link #deriveState()}).
 *
 * <p>A plain object, not a JPA entity: the catalog writes chunk rows by batch in SQL (RowStore) and
 * reads them with plain JDBC, so nothing needs Hibernate here, and as an entity every field write
 * of the write path went through Hibernate's dirty-field tracker, about 3% of the ingest's CPU
 * samples and 2% of its allocation for nothing (DESIGN.md, "Scale").
 */
public class Chunk {
    public String chunkId;

    public String poolId;

    public String hostId;

    /** Which topic set poolId/hostId; see {@link Rank}. */
    public int ownerRank;

    public String path;

    public Long sizeBytes;

    public Boolean sparse;

    public String cipher;

    public String keyId;

    public String driver;

    public ChunkState state;

    /** The last state szpool.device-events reported; null while only other topics named it. */
    public ChunkState deviceState;

    public boolean inPool;

    public String deviceAddress;

    public Long lastSyncedGeneration;

    public Instant lastSyncedAt;

    public Instant createdAt;

    public Instant updatedAt;

    /**
     * The state a user sees, a function of the per-topic facts only, so it does not depend on which
     * topic's event came first: destroyed and faulted (device facts) win, then membership of a
     * vdev, then whatever the device reported last.
     */
    public ChunkState deriveState() {
        if (deviceState == ChunkState.DESTROYED || deviceState == ChunkState.FAULTED) {
            return deviceState;
        }
        if (inPool) {
            return ChunkState.IN_POOL;
        }
        return deviceState != null ? deviceState : ChunkState.PROVISIONED;
    }
}
