package io.szpool.catalog.chunk;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * A chunk row of the catalog. Device, pool and sync facts are kept in their own columns, because
 * each comes from its own topic; {@link #state} is derived from them (see {@link #deriveState()}).
 */
@Entity
@Table(name = "chunk")
public class Chunk extends PanacheEntityBase {
    @Id
    @Column(name = "chunk_id")
    public String chunkId;

    @Column(name = "pool_id", nullable = false)
    public String poolId;

    @Column(name = "host_id", nullable = false)
    public String hostId;

    /** Which topic set poolId/hostId; see {@link Rank}. */
    @Column(name = "owner_rank", nullable = false)
    public int ownerRank;

    public String path;

    @Column(name = "size_bytes")
    public Long sizeBytes;

    public Boolean sparse;

    public String cipher;

    @Column(name = "key_id")
    public String keyId;

    public String driver;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public ChunkState state;

    /** The last state szpool.device-events reported; null while only other topics named it. */
    @Enumerated(EnumType.STRING)
    @Column(name = "device_state")
    public ChunkState deviceState;

    @Column(name = "in_pool", nullable = false)
    public boolean inPool;

    @Column(name = "device_address")
    public String deviceAddress;

    @Column(name = "last_synced_generation")
    public Long lastSyncedGeneration;

    @Column(name = "last_synced_at")
    public Instant lastSyncedAt;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
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
