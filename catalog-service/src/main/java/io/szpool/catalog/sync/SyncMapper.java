package io.szpool.catalog.sync;

import io.szpool.catalog.chunk.ChunkMapper;
import io.szpool.catalog.pool.Pool;
import io.szpool.catalog.pool.PoolMapper;
import io.szpool.events.SyncEvent;
import io.szpool.events.SyncEvent.ChunkRestored;
import io.szpool.events.SyncEvent.ChunkSynced;
import io.szpool.events.SyncEvent.RestoreCompleted;
import io.szpool.events.SyncEvent.RestoreStarted;
import io.szpool.events.SyncEvent.SyncCompleted;
import io.szpool.events.SyncEvent.SyncFailed;
import io.szpool.events.SyncEvent.SyncStarted;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;

/**
 * Applies sync events to generation and restore rows, one upsert each. Counters add up and a
 * finished generation never goes back to running, so the rows end the same whatever the
 * interleaving with other topics.
 */
@ApplicationScoped
public class SyncMapper {
    private final EntityManager em;
    private final PoolMapper pools;
    private final ChunkMapper chunks;

    public SyncMapper(EntityManager em, PoolMapper pools, ChunkMapper chunks) {
        this.em = em;
        this.pools = pools;
        this.chunks = chunks;
    }

    public void apply(SyncEvent event, Instant at) {
        pools.row(event.poolId(), event.hostId(), Pool.RANK_SYNC, at);
        if (event instanceof SyncStarted started) {
            generation(started.poolId(), started.target(), started.generation(), started.hostId())
                    .set(" set started_at = least(g.started_at, ?4)")
                    .run(em, at);
        } else if (event instanceof ChunkSynced synced) {
            chunks.synced(
                    synced.chunkId(), synced.poolId(), synced.hostId(), synced.generation(), at);
            generation(synced.poolId(), synced.target(), synced.generation(), synced.hostId())
                    .set(
                            " set chunks_synced = g.chunks_synced + 1, bytes_synced ="
                                    + " g.bytes_synced + ?4")
                    .run(em, synced.bytesTransferred());
        } else if (event instanceof SyncCompleted completed) {
            generation(
                            completed.poolId(),
                            completed.target(),
                            completed.generation(),
                            completed.hostId())
                    .set(
                            " set state = 'completed', finished_at = ?4, chunks = ?5,"
                                    + " bytes_transferred = ?6, duration_ms = ?7")
                    .run(
                            em,
                            at,
                            completed.chunks(),
                            completed.bytesTransferred(),
                            completed.durationMs());
        } else if (event instanceof SyncFailed failed) {
            generation(failed.poolId(), failed.target(), failed.generation(), failed.hostId())
                    .set(" set state = 'failed', finished_at = ?4, reason = ?5")
                    .run(em, at, failed.reason());
        } else if (event instanceof RestoreStarted started) {
            restore(started.poolId(), started.hostId(), started.generation())
                    .set(" set target = ?4, started_at = ?5")
                    .run(em, started.target(), at);
        } else if (event instanceof ChunkRestored restored) {
            restore(restored.poolId(), restored.hostId(), restored.generation())
                    .set(
                            " set chunks_restored = r.chunks_restored + 1, chunks_repaired ="
                                    + " r.chunks_repaired + ?4")
                    .run(em, restored.repaired() ? 1 : 0);
        } else if (event instanceof RestoreCompleted completed) {
            restore(completed.poolId(), completed.hostId(), completed.generation())
                    .set(" set state = 'completed', finished_at = ?4, duration_ms = ?5")
                    .run(em, at, completed.durationMs());
        } else {
            throw new IllegalStateException("no mapping for " + event.getClass().getSimpleName());
        }
    }

    private Update generation(String pool, String target, long generation, String host) {
        em.createNativeQuery(
                        "insert into sync_generation (pool_id, target, generation, host_id, state)"
                                + " values (?1, ?2, ?3, ?4, 'running') on conflict do nothing")
                .setParameter(1, pool)
                .setParameter(2, target)
                .setParameter(3, generation)
                .setParameter(4, host)
                .executeUpdate();
        return new Update(
                "update sync_generation g",
                " where g.pool_id = ?1 and g.target = ?2 and g.generation = ?3",
                pool,
                target,
                generation);
    }

    private Update restore(String pool, String host, long generation) {
        em.createNativeQuery(
                        "insert into restore (pool_id, host_id, generation, state) values (?1, ?2,"
                                + " ?3, 'running') on conflict do nothing")
                .setParameter(1, pool)
                .setParameter(2, host)
                .setParameter(3, generation)
                .executeUpdate();
        return new Update(
                "update restore r",
                " where r.pool_id = ?1 and r.host_id = ?2 and r.generation = ?3",
                pool,
                host,
                generation);
    }

    /**
     * The update of a row that the caller has just made sure exists: parameters ?1 to ?3 are the
     * row's key, the values follow.
     */
    private static final class Update {
        private final String table;
        private final String where;
        private final Object[] key;
        private String set = "";

        Update(String table, String where, Object... key) {
            this.table = table;
            this.where = where;
            this.key = key;
        }

        Update set(String set) {
            this.set = set;
            return this;
        }

        void run(EntityManager em, Object... values) {
            var query = em.createNativeQuery(table + set + where);
            for (int i = 0; i < values.length; i++) {
                query.setParameter(key.length + i + 1, values[i]);
            }
            for (int i = 0; i < key.length; i++) {
                query.setParameter(i + 1, key[i]);
            }
            query.executeUpdate();
        }
    }
}
