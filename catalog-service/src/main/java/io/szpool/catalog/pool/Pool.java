package io.szpool.catalog.pool;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * A pool row. Device and sync events may name a pool before pool-service announces it; such a row
 * is a placeholder (name, layout, size null) until PoolCreated or PoolImported fills it.
 */
@Entity
@Table(name = "pool")
public class Pool extends PanacheEntityBase {
    /** Ranks of {@link #ownerRank}: pool-service owns pools, the others only name them. */
    public static final int RANK_SYNC = 1;

    public static final int RANK_DEVICE = 2;
    public static final int RANK_POOL = 3;

    @Id
    @Column(name = "pool_id")
    public String poolId;

    public String name;

    @Column(name = "host_id")
    public String hostId;

    @Column(name = "owner_rank", nullable = false)
    public int ownerRank;

    public String layout;

    public Integer width;

    @Column(name = "chunk_size_bytes")
    public Long chunkSizeBytes;

    @Column(name = "size_bytes")
    public Long sizeBytes;

    @Column(name = "allocated_bytes")
    public Long allocatedBytes;

    public String health;

    /** active, exported or destroyed; null while only a placeholder. */
    public String state;

    @Column(name = "last_scrubbed_at")
    public Instant lastScrubbedAt;

    @Column(name = "created_at")
    public Instant createdAt;

    @Column(name = "first_seen", nullable = false)
    public Instant firstSeen;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
