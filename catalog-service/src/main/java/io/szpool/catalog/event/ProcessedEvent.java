package io.szpool.catalog.event;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import org.hibernate.annotations.Immutable;

/**
 * The id of an event the catalog has applied; applying it again is a no-op. A read-only view of the
 * event log, which is the record (V3).
 */
@Entity
@Immutable
@Table(name = "processed_event")
public class ProcessedEvent extends PanacheEntityBase {
    @Id
    @Column(name = "event_id")
    public String eventId;

    @Column(nullable = false)
    public String type;

    @Column(nullable = false)
    public String source;

    @Column(name = "pool_id")
    public String poolId;

    @Column(name = "processed_at", nullable = false)
    public Instant processedAt;
}
