package io.szpool.catalog.pool;

import io.szpool.catalog.chunk.ChunkMapper;
import io.szpool.catalog.ingest.BatchRows;
import io.szpool.events.EventCodec;
import io.szpool.events.PoolEvent;
import io.szpool.events.PoolEvent.PoolCapacityAlert;
import io.szpool.events.PoolEvent.PoolCreated;
import io.szpool.events.PoolEvent.PoolDestroyed;
import io.szpool.events.PoolEvent.PoolExported;
import io.szpool.events.PoolEvent.PoolGrown;
import io.szpool.events.PoolEvent.PoolHealthChanged;
import io.szpool.events.PoolEvent.PoolImported;
import io.szpool.events.PoolEvent.PoolScrubbed;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

/** Applies pool events to pool, vdev, growth and chunk rows. */
@ApplicationScoped
public class PoolMapper {
    private final ChunkMapper chunks;

    public PoolMapper(ChunkMapper chunks) {
        this.chunks = chunks;
    }

    public void apply(BatchRows rows, PoolEvent event, Instant at) {
        Pool pool = row(rows, event.poolId(), event.hostId(), Pool.RANK_POOL, at);
        if (event instanceof PoolCreated created) {
            pool.name = created.name();
            pool.layout = EventCodec.wireName(created.layout());
            pool.width = created.width();
            pool.chunkSizeBytes = created.chunkSizeBytes();
            pool.sizeBytes = created.sizeBytes();
            pool.state = "active";
            if (pool.health == null) {
                pool.health = "ONLINE";
            }
            pool.createdAt = at;
            for (int i = 0; i < created.vdevs().size(); i++) {
                rows.vdev(
                        new VdevRow(created.poolId(), i, pool.layout, at, created.vdevs().get(i)));
                chunks.inPool(rows, created.vdevs().get(i), created.poolId(), created.hostId(), at);
            }
        } else if (event instanceof PoolGrown grown) {
            pool.sizeBytes = grown.sizeBytesAfter();
            String layout = EventCodec.wireName(grown.layout());
            rows.vdev(new VdevRow(grown.poolId(), grown.vdevIndex(), layout, at, grown.chunkIds()));
            chunks.inPool(rows, grown.chunkIds(), grown.poolId(), grown.hostId(), at);
            rows.growth(
                    new GrowthRow(
                            grown.poolId(),
                            grown.vdevIndex(),
                            grown.sizeBytesBefore(),
                            grown.sizeBytesAfter(),
                            EventCodec.wireName(grown.trigger()),
                            at));
        } else if (event instanceof PoolCapacityAlert alert) {
            pool.sizeBytes = alert.sizeBytes();
            pool.allocatedBytes = alert.allocatedBytes();
        } else if (event instanceof PoolHealthChanged health) {
            pool.health = health.health().name();
        } else if (event instanceof PoolScrubbed) {
            pool.lastScrubbedAt = at;
        } else if (event instanceof PoolImported imported) {
            pool.name = imported.name();
            pool.health = imported.health().name();
            pool.state = "active";
            chunks.inPool(rows, imported.chunkIds(), imported.poolId(), imported.hostId(), at);
        } else if (event instanceof PoolExported exported) {
            pool.name = exported.name();
            pool.state = "exported";
        } else if (event instanceof PoolDestroyed destroyed) {
            pool.name = destroyed.name();
            pool.state = "destroyed";
            chunks.released(rows, rows.chunkIdsOf(destroyed.poolId()), at);
        } else {
            throw new IllegalStateException("no mapping for " + event.getClass().getSimpleName());
        }
    }

    /**
     * The pool row, created as a placeholder when a device or sync event names it first. The host
     * is taken from the most authoritative topic that has named the pool.
     */
    public Pool row(BatchRows rows, String poolId, String hostId, int rank, Instant at) {
        Pool pool = rows.pool(poolId);
        if (pool == null) {
            pool = new Pool();
            pool.poolId = poolId;
            pool.hostId = hostId;
            pool.ownerRank = rank;
            pool.firstSeen = at;
            pool.updatedAt = at;
            rows.add(pool);
        } else if (rank >= pool.ownerRank) {
            pool.hostId = hostId;
            pool.ownerRank = rank;
        }
        if (at.isBefore(pool.firstSeen)) {
            pool.firstSeen = at;
        }
        if (at.isAfter(pool.updatedAt)) {
            pool.updatedAt = at;
        }
        return pool;
    }
}
