package io.szpool.catalog.ingest;

import io.szpool.catalog.chunk.Chunk;
import io.szpool.catalog.pool.GrowthRow;
import io.szpool.catalog.pool.Pool;
import io.szpool.catalog.pool.VdevRow;
import io.szpool.catalog.sync.GenerationRow;
import io.szpool.catalog.sync.RestoreRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rows one batch of events touches, held in memory: loaded once before the batch's events are
 * applied in order by the mappers (the same rules as one event at a time), then written back once
 * per table by {@link RowStore}. Every row here belongs to a pool whose lock the batch holds,
 * except hosts, whose first/last seen merge in SQL and need no lock.
 */
public final class BatchRows {
    final Map<String, Chunk> chunks = new HashMap<>();
    final Map<String, Pool> pools = new HashMap<>();
    final Map<GenerationRow.Key, GenerationRow> generations = new HashMap<>();
    final Map<RestoreRow.Key, RestoreRow> restores = new HashMap<>();

    /** Vdevs a pool event of the batch stated; a later statement of the same vdev replaces it. */
    final Map<String, VdevRow> vdevs = new HashMap<>();

    /** The chunk ids of the vdevs already in the catalog, for the pools the batch destroys. */
    final Map<String, Map<Integer, List<String>>> storedVdevChunks = new HashMap<>();

    final Map<String, GrowthRow> growth = new HashMap<>();

    /** host id → [first seen, last seen]; host id + U+001F + service → the same. */
    final Map<String, Instant[]> hosts = new HashMap<>();

    final Map<String, Instant[]> services = new HashMap<>();

    /** The chunk row, or null if neither the catalog nor an earlier event of the batch has it. */
    public Chunk chunk(String chunkId) {
        return chunks.get(chunkId);
    }

    public void add(Chunk chunk) {
        chunks.put(chunk.chunkId, chunk);
    }

    /** The pool row, or null if neither the catalog nor an earlier event of the batch has it. */
    public Pool pool(String poolId) {
        return pools.get(poolId);
    }

    public void add(Pool pool) {
        pools.put(pool.poolId, pool);
    }

    /** The generation's row, made {@code running} by whichever event names it first. */
    public GenerationRow generation(String poolId, String target, long generation, String hostId) {
        return generations.computeIfAbsent(
                new GenerationRow.Key(poolId, target, generation),
                key -> {
                    GenerationRow row = new GenerationRow(key);
                    row.hostId = hostId;
                    row.state = "running";
                    return row;
                });
    }

    /** The restore's row, made {@code running} by whichever event names it first. */
    public RestoreRow restore(String poolId, String hostId, long generation) {
        return restores.computeIfAbsent(
                new RestoreRow.Key(poolId, hostId, generation),
                key -> {
                    RestoreRow row = new RestoreRow(key);
                    row.state = "running";
                    return row;
                });
    }

    /** A vdev and its chunks in column order, replacing what the catalog had for that vdev. */
    public void vdev(VdevRow vdev) {
        vdevs.put(vdevKey(vdev.poolId(), vdev.vdevIndex()), vdev);
    }

    public void growth(GrowthRow row) {
        growth.put(vdevKey(row.poolId(), row.vdevIndex()), row);
    }

    /** Every chunk id the vdevs of a pool name, as the catalog plus this batch so far know them. */
    public Set<String> chunkIdsOf(String poolId) {
        Map<Integer, List<String>> byVdev =
                new HashMap<>(storedVdevChunks.getOrDefault(poolId, Map.of()));
        for (VdevRow vdev : vdevs.values()) {
            if (vdev.poolId().equals(poolId)) {
                byVdev.put(vdev.vdevIndex(), vdev.chunkIds());
            }
        }
        Set<String> ids = new LinkedHashSet<>();
        byVdev.values().forEach(ids::addAll);
        return ids;
    }

    /** A host's service spoke at {@code at}; first and last seen only move outward. */
    public void seen(String hostId, String service, Instant at) {
        widen(hosts, hostId, at);
        widen(services, hostId + '\u001f' + service, at);
    }

    private static void widen(Map<String, Instant[]> seen, String key, Instant at) {
        Instant[] span = seen.computeIfAbsent(key, k -> new Instant[] {at, at});
        if (at.isBefore(span[0])) {
            span[0] = at;
        }
        if (at.isAfter(span[1])) {
            span[1] = at;
        }
    }

    static String vdevKey(String poolId, int index) {
        return poolId + '\u001f' + index;
    }

    List<Chunk> chunkRows() {
        return new ArrayList<>(chunks.values());
    }
}
