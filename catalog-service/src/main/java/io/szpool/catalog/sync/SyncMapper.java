package io.szpool.catalog.sync;

import io.szpool.catalog.chunk.ChunkMapper;
import io.szpool.catalog.ingest.BatchRows;
import io.szpool.catalog.pool.Pool;
import io.szpool.catalog.pool.PoolMapper;
import io.szpool.events.SyncEvent;
import io.szpool.events.SyncEvent.ChunkRestored;
import io.szpool.events.SyncEvent.ChunkSynced;
import io.szpool.events.SyncEvent.RestoreCompleted;
import io.szpool.events.SyncEvent.RestoreFailed;
import io.szpool.events.SyncEvent.RestoreStarted;
import io.szpool.events.SyncEvent.SyncCompleted;
import io.szpool.events.SyncEvent.SyncFailed;
import io.szpool.events.SyncEvent.SyncStarted;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

/**
 * Applies sync events to generation and restore rows. Counters add up and a finished generation
 * never goes back to running, so the rows end the same whatever the interleaving with other topics.
 */
@ApplicationScoped
public class SyncMapper {
    private final PoolMapper pools;
    private final ChunkMapper chunks;

    public SyncMapper(PoolMapper pools, ChunkMapper chunks) {
        this.pools = pools;
        this.chunks = chunks;
    }

    public void apply(BatchRows rows, SyncEvent event, Instant at) {
        pools.row(rows, event.poolId(), event.hostId(), Pool.RANK_SYNC, at);
        if (event instanceof SyncStarted started) {
            GenerationRow g =
                    rows.generation(
                            started.poolId(),
                            started.target(),
                            started.generation(),
                            started.hostId());
            if (g.startedAt == null || at.isBefore(g.startedAt)) {
                g.startedAt = at;
            }
        } else if (event instanceof ChunkSynced synced) {
            chunks.synced(
                    rows,
                    synced.chunkId(),
                    synced.poolId(),
                    synced.hostId(),
                    synced.generation(),
                    at);
            GenerationRow g =
                    rows.generation(
                            synced.poolId(), synced.target(), synced.generation(), synced.hostId());
            g.chunksSynced += 1;
            g.bytesSynced += synced.bytesTransferred();
        } else if (event instanceof SyncCompleted completed) {
            GenerationRow g =
                    rows.generation(
                            completed.poolId(),
                            completed.target(),
                            completed.generation(),
                            completed.hostId());
            g.state = "completed";
            g.finishedAt = at;
            g.chunks = completed.chunks();
            g.bytesTransferred = completed.bytesTransferred();
            g.durationMs = completed.durationMs();
        } else if (event instanceof SyncFailed failed) {
            GenerationRow g =
                    rows.generation(
                            failed.poolId(), failed.target(), failed.generation(), failed.hostId());
            g.state = "failed";
            g.finishedAt = at;
            g.reason = failed.reason();
        } else if (event instanceof RestoreStarted started) {
            RestoreRow r = rows.restore(started.poolId(), started.hostId(), started.generation());
            r.target = started.target();
            r.startedAt = at;
        } else if (event instanceof ChunkRestored restored) {
            RestoreRow r =
                    rows.restore(restored.poolId(), restored.hostId(), restored.generation());
            r.chunksRestored += 1;
            r.chunksRepaired += restored.repaired() ? 1 : 0;
        } else if (event instanceof RestoreCompleted completed) {
            RestoreRow r =
                    rows.restore(completed.poolId(), completed.hostId(), completed.generation());
            r.state = "completed";
            r.finishedAt = at;
            r.durationMs = completed.durationMs();
        } else if (event instanceof RestoreFailed failed) {
            RestoreRow r = rows.restore(failed.poolId(), failed.hostId(), failed.generation());
            r.target = failed.target();
            r.state = "failed";
            r.finishedAt = at;
        } else {
            throw new IllegalStateException("no mapping for " + event.getClass().getSimpleName());
        }
    }
}
