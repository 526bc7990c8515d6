package io.szpool.catalog.event;

import io.szpool.catalog.chunk.ChunkMapper;
import io.szpool.catalog.eventlog.CatalogedEvent;
import io.szpool.catalog.eventlog.EventLog;
import io.szpool.catalog.host.HostMapper;
import io.szpool.catalog.pool.Pool;
import io.szpool.catalog.pool.PoolMapper;
import io.szpool.catalog.sync.SyncMapper;
import io.szpool.events.CloudEvent;
import io.szpool.events.Command;
import io.szpool.events.DeviceEvent;
import io.szpool.events.PoolEvent;
import io.szpool.events.SyncEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Applies one event to the catalog in one transaction: checks its id, changes the rows, logs it and
 * records the id. A redelivered event finds its id and changes nothing.
 */
@ApplicationScoped
public class CatalogEventHandler {
    private final EntityManager em;
    private final HostMapper hosts;
    private final ChunkMapper chunks;
    private final PoolMapper pools;
    private final SyncMapper syncs;
    private final EventLog log;
    private final Event<CatalogedEvent> cataloged;

    public CatalogEventHandler(
            EntityManager em,
            HostMapper hosts,
            ChunkMapper chunks,
            PoolMapper pools,
            SyncMapper syncs,
            EventLog log,
            Event<CatalogedEvent> cataloged) {
        this.em = em;
        this.hosts = hosts;
        this.chunks = chunks;
        this.pools = pools;
        this.syncs = syncs;
        this.log = log;
        this.cataloged = cataloged;
    }

    /** Returns false when the event was applied before. */
    @Transactional
    public boolean handle(CloudEvent event) {
        lock(List.of(event.data().poolId()));
        return apply(event);
    }

    /**
     * Applies a polled batch in one transaction: one commit instead of one per event, which is what
     * the catalog's ingest rate is made of. Events keep their order within the batch.
     */
    @Transactional
    public void handleAll(List<CloudEvent> events) {
        lock(events.stream().map(e -> e.data().poolId()).toList());
        for (CloudEvent event : events) {
            apply(event);
        }
    }

    // The four topics are consumed concurrently and their events of one pool touch the same rows;
    // a per-pool lock for the transaction makes those read-modify-writes take turns. A batch takes
    // all its pools' locks at once in one global order (the sorted hashes; OFFSET 0 keeps the sort
    // below the locking), so two batches never wait for each other in a circle.
    private void lock(List<String> poolIds) {
        em.createNativeQuery(
                        "select count(pg_advisory_xact_lock(h)) from (select distinct hashtext(p)"
                                + " h from unnest(string_to_array(?1, chr(31))) p order by h offset"
                                + " 0) locks")
                .setParameter(
                        1,
                        String.join(
                                "\u001f",
                                new TreeSet<>(poolIds.stream().filter(Objects::nonNull).toList())))
                .getSingleResult();
    }

    private boolean apply(CloudEvent event) {
        if (ProcessedEvent.findById(event.id()) != null) {
            return false;
        }
        Instant at = event.time() != null ? event.time() : Instant.now();
        hosts.seen(event.source(), at);
        if (event.data() instanceof DeviceEvent device) {
            pools.row(device.poolId(), device.hostId(), Pool.RANK_DEVICE, at);
            chunks.apply(device, at);
        } else if (event.data() instanceof PoolEvent pool) {
            pools.apply(pool, at);
        } else if (event.data() instanceof SyncEvent sync) {
            syncs.apply(sync, at);
        } else if (event.data() instanceof Command) {
            // Commands are requests, not facts: they go to the audit trail only.
        }
        CatalogedEvent entry = log.append(event, at);
        ProcessedEvent processed = new ProcessedEvent();
        processed.eventId = event.id();
        processed.type = event.type();
        processed.source = event.source().toString();
        processed.poolId = event.data().poolId();
        processed.processedAt = Instant.now();
        processed.persist();
        // Observers of the live stream see it only once the transaction has committed.
        cataloged.fire(entry);
        return true;
    }
}
