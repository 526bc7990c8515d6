package io.szpool.catalog.event;

import io.quarkus.narayana.jta.runtime.TransactionConfiguration;
import io.szpool.catalog.chunk.ChunkMapper;
import io.szpool.catalog.eventlog.CatalogedBatch;
import io.szpool.catalog.eventlog.CatalogedEvent;
import io.szpool.catalog.host.HostMapper;
import io.szpool.catalog.ingest.BatchRows;
import io.szpool.catalog.ingest.RowStore;
import io.szpool.catalog.ingest.RowStore.LogRow;
import io.szpool.catalog.pool.Pool;
import io.szpool.catalog.pool.PoolMapper;
import io.szpool.catalog.sync.SyncMapper;
import io.szpool.events.CloudEvent;
import io.szpool.events.Command;
import io.szpool.events.DeviceEvent;
import io.szpool.events.EventCodec;
import io.szpool.events.PoolEvent;
import io.szpool.events.SyncEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.transaction.Transactional;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Applies events to the catalog, a batch per transaction: skips the ids applied before, folds the
 * rest in order into the rows they touch (in memory, by the mappers' rules), writes each table back
 * in one statement and logs the events. A redelivered event finds its id and changes nothing.
 */
@ApplicationScoped
public class CatalogEventHandler {
    private final DataSource dataSource;
    private final HostMapper hosts;
    private final ChunkMapper chunks;
    private final PoolMapper pools;
    private final SyncMapper syncs;
    private final Event<CatalogedBatch> cataloged;

    public CatalogEventHandler(
            DataSource dataSource,
            HostMapper hosts,
            ChunkMapper chunks,
            PoolMapper pools,
            SyncMapper syncs,
            Event<CatalogedBatch> cataloged) {
        this.dataSource = dataSource;
        this.hosts = hosts;
        this.chunks = chunks;
        this.pools = pools;
        this.syncs = syncs;
        this.cataloged = cataloged;
    }

    /** Returns false when the event was applied before. */
    @Transactional
    public boolean handle(CloudEvent event) {
        return apply(List.of(event), null) == 1;
    }

    /**
     * Applies a polled batch in one transaction: one commit and one statement per table instead of
     * one per event and row, which is what the catalog's ingest rate is made of. Events keep their
     * order within the batch. Returns how many were new.
     */
    // Ten minutes, not the default minute: on a starved machine (load 45 on two cores) a batch of
    // 5000 took longer than a minute, the reaper aborted it, and its 5000 events were then applied
    // one transaction each (EventIntake's fallback for a bad event), stalling ingest for minutes.
    @Transactional
    @TransactionConfiguration(timeout = 600)
    public int handleAll(List<CloudEvent> events) {
        return apply(events, null);
    }

    /**
     * As {@link #handleAll(List)}, with each event's payload as it was read from its record: the
     * event log stores that text as it is, instead of writing every event to JSON again.
     */
    @Transactional
    @TransactionConfiguration(timeout = 600)
    public int handleAll(List<CloudEvent> events, List<String> payloads) {
        return apply(events, payloads);
    }

    private int apply(List<CloudEvent> events, List<String> payloads) {
        // The transaction's connection (Agroal enlists it), closed with the transaction.
        try (Connection db = dataSource.getConnection()) {
            RowStore store = new RowStore(db);
            store.lock(
                    events.stream()
                            .filter(e -> !(e.data() instanceof Command))
                            .map(e -> e.data().poolId())
                            .filter(Objects::nonNull)
                            .toList());
            // Almost every batch holds only events the catalog has not seen: apply them as new
            // and let the log's unique event id refuse a redelivery, instead of looking every id
            // up first (5000 probes of a large unique index per batch, which the log's COPY then
            // makes again). If the log refuses one, the batch's writes are undone back to the
            // savepoint and applied again, the ids seen before now looked up and skipped.
            // By SQL: the pool refuses JDBC's rollback(Savepoint) on a connection enlisted in a
            // JTA transaction.
            store.execute("savepoint unchecked");
            try {
                return write(store, events, payloads, Set.of());
            } catch (SQLException e) {
                if (!RowStore.loggedBefore(e)) {
                    throw e;
                }
                store.execute("rollback to savepoint unchecked");
                return write(
                        store,
                        events,
                        payloads,
                        store.applied(events.stream().map(CloudEvent::id).toList()));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot write the catalog: " + e.getMessage(), e);
        }
    }

    /** Folds and writes the events whose ids are not in {@code applied}; returns how many. */
    private int write(
            RowStore store, List<CloudEvent> events, List<String> payloads, Set<String> applied)
            throws SQLException {
        List<CloudEvent> fresh = new ArrayList<>();
        List<String> freshPayloads = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < events.size(); i++) {
            CloudEvent event = events.get(i);
            // A batch may hold a redelivery of its own event (a producer retry).
            if (!applied.contains(event.id()) && ids.add(event.id())) {
                fresh.add(event);
                freshPayloads.add(
                        payloads != null ? payloads.get(i) : EventCodec.toJson(event.data()));
            }
        }
        if (fresh.isEmpty()) {
            return 0;
        }
        BatchRows rows = store.load(fresh);
        long[] seq = store.sequence(fresh.size());
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        List<LogRow> log = new ArrayList<>(fresh.size());
        for (int i = 0; i < fresh.size(); i++) {
            CloudEvent event = fresh.get(i);
            // PostgreSQL keeps microseconds; comparing in memory at the same precision keeps
            // a row's merges the same whether it was loaded or made in this batch.
            Instant at = (event.time() != null ? event.time() : now).truncatedTo(ChronoUnit.MICROS);
            apply(rows, event, at);
            log.add(
                    new LogRow(
                            seq[i],
                            event.id(),
                            event.type(),
                            event.topic(),
                            event.data().poolId(),
                            HostMapper.parse(event.source()).map(hs -> hs[0]).orElse(null),
                            event.source().toString(),
                            at,
                            freshPayloads.get(i),
                            now));
        }
        // The log first: it is where an event seen before is refused, before any row is written.
        store.log(log);
        store.write(rows);
        store.writeHosts(rows);
        // Observers of the live stream see them only once the transaction has committed.
        cataloged.fire(new CatalogedBatch(log.stream().map(CatalogEventHandler::entry).toList()));
        return fresh.size();
    }

    private void apply(BatchRows rows, CloudEvent event, Instant at) {
        hosts.seen(rows, event.source(), at);
        if (event.data() instanceof DeviceEvent device) {
            pools.row(rows, device.poolId(), device.hostId(), Pool.RANK_DEVICE, at);
            chunks.apply(rows, device, at);
        } else if (event.data() instanceof PoolEvent pool) {
            pools.apply(rows, pool, at);
        } else if (event.data() instanceof SyncEvent sync) {
            syncs.apply(rows, sync, at);
        } else if (event.data() instanceof Command) {
            // Commands are requests, not facts: they go to the audit trail only.
        }
    }

    private static CatalogedEvent entry(LogRow row) {
        return new CatalogedEvent(
                row.seq(),
                row.eventId(),
                row.type(),
                row.topic(),
                row.poolId(),
                row.hostId(),
                row.source(),
                row.eventTime(),
                row.payload());
    }
}
