package io.szpool.catalog.pool;

import io.szpool.catalog.chunk.ChunkMapper;
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
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.List;

/** Applies pool events to pool, vdev, growth and chunk rows. */
@ApplicationScoped
public class PoolMapper {
    private final EntityManager em;
    private final ChunkMapper chunks;

    public PoolMapper(EntityManager em, ChunkMapper chunks) {
        this.em = em;
        this.chunks = chunks;
    }

    public void apply(PoolEvent event, Instant at) {
        Pool pool = row(event.poolId(), event.hostId(), Pool.RANK_POOL, at);
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
                vdev(created.poolId(), i, pool.layout, created.vdevs().get(i), at);
                chunks.inPool(created.vdevs().get(i), created.poolId(), created.hostId(), at);
            }
        } else if (event instanceof PoolGrown grown) {
            pool.sizeBytes = grown.sizeBytesAfter();
            String layout = EventCodec.wireName(grown.layout());
            vdev(grown.poolId(), grown.vdevIndex(), layout, grown.chunkIds(), at);
            chunks.inPool(grown.chunkIds(), grown.poolId(), grown.hostId(), at);
            em.createNativeQuery(
                            "insert into pool_growth (pool_id, vdev_index, size_bytes_before,"
                                    + " size_bytes_after, trigger, grown_at) values (?1, ?2, ?3,"
                                    + " ?4, ?5, ?6) on conflict (pool_id, vdev_index) do update"
                                    + " set size_bytes_before = excluded.size_bytes_before,"
                                    + " size_bytes_after = excluded.size_bytes_after,"
                                    + " trigger = excluded.trigger, grown_at = excluded.grown_at")
                    .setParameter(1, grown.poolId())
                    .setParameter(2, grown.vdevIndex())
                    .setParameter(3, grown.sizeBytesBefore())
                    .setParameter(4, grown.sizeBytesAfter())
                    .setParameter(5, EventCodec.wireName(grown.trigger()))
                    .setParameter(6, at)
                    .executeUpdate();
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
            chunks.inPool(imported.chunkIds(), imported.poolId(), imported.hostId(), at);
        } else if (event instanceof PoolExported exported) {
            pool.name = exported.name();
            pool.state = "exported";
        } else if (event instanceof PoolDestroyed destroyed) {
            pool.name = destroyed.name();
            pool.state = "destroyed";
            chunks.released(chunkIds(destroyed.poolId()), at);
        } else {
            throw new IllegalStateException("no mapping for " + event.getClass().getSimpleName());
        }
    }

    /**
     * The pool row, created as a placeholder when a device or sync event names it first. The host
     * is taken from the most authoritative topic that has named the pool.
     */
    public Pool row(String poolId, String hostId, int rank, Instant at) {
        Pool pool = Pool.findById(poolId);
        if (pool == null) {
            pool = new Pool();
            pool.poolId = poolId;
            pool.hostId = hostId;
            pool.ownerRank = rank;
            pool.firstSeen = at;
            pool.updatedAt = at;
            pool.persist();
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

    private void vdev(String poolId, int index, String layout, List<String> chunkIds, Instant at) {
        em.createNativeQuery(
                        "insert into vdev (pool_id, vdev_index, layout, added_at) values (?1, ?2,"
                                + " ?3, ?4) on conflict (pool_id, vdev_index) do update set layout"
                                + " = excluded.layout, added_at = excluded.added_at")
                .setParameter(1, poolId)
                .setParameter(2, index)
                .setParameter(3, layout)
                .setParameter(4, at)
                .executeUpdate();
        em.createNativeQuery("delete from vdev_chunk where pool_id = ?1 and vdev_index = ?2")
                .setParameter(1, poolId)
                .setParameter(2, index)
                .executeUpdate();
        for (int position = 0; position < chunkIds.size(); position++) {
            em.createNativeQuery(
                            "insert into vdev_chunk (pool_id, vdev_index, position, chunk_id)"
                                    + " values (?1, ?2, ?3, ?4)")
                    .setParameter(1, poolId)
                    .setParameter(2, index)
                    .setParameter(3, position)
                    .setParameter(4, chunkIds.get(position))
                    .executeUpdate();
        }
    }

    @SuppressWarnings("unchecked")
    private List<String> chunkIds(String poolId) {
        return em.createNativeQuery("select chunk_id from vdev_chunk where pool_id = ?1")
                .setParameter(1, poolId)
                .getResultList();
    }
}
