package io.szpool.catalog.chunk;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A chunk row of the catalog. */
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

    @Column(nullable = false)
    public String path;

    @Column(name = "size_bytes", nullable = false)
    public long sizeBytes;

    @Column(nullable = false)
    public boolean sparse;

    @Column(nullable = false)
    public String cipher;

    @Column(name = "key_id", nullable = false)
    public String keyId;

    @Column(nullable = false)
    public String driver;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public ChunkState state;

    @Column(name = "device_address")
    public String deviceAddress;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
