package io.szpool.sync.source;

import io.szpool.sync.generation.GenerationStore;
import io.szpool.sync.generation.Manifest;
import io.szpool.sync.source.DeviceServiceClient.Snapshot;
import io.szpool.sync.source.DeviceServiceClient.SnapshotChunk;
import io.szpool.sync.source.PoolServiceClient.Frozen;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.IntPredicate;
import org.jboss.logging.Logger;

/**
 * An imported, live pool captured at one instant: pool-service commits the pool and holds its
 * writes, crypto-device-service takes a copy-on-write snapshot of every chunk device, pool-service
 * lets writes go on. The barrier is those three calls, whatever the pool's size. Then, with writes
 * running, only the segments of each chunk that crypto-device-service saw written since the
 * previous generation's capture are read from the snapshot (a range each) into sparse staging files
 * and digested; the others are not read at all: placeholders the run links to the previous
 * generation's segment files, with their digests. {@link #close()} drops the snapshot.
 */
public final class LiveChunkSource implements ChunkSource {
    private static final Logger LOG = Logger.getLogger(LiveChunkSource.class);

    private final PoolServiceClient pools;
    private final DeviceServiceClient devices;
    private final String pool;
    private final String poolId;
    private final Path staging;
    private final Duration freezeTimeout;
    private byte[] keySlot;
    private Snapshot snapshot;
    private List<SourceChunk> chunks = List.of();
    private Map<String, String> layout = Map.of();
    private long barrierMillis = -1;
    private int chunksCopied;
    private int segmentsRead;
    private long bytesRead;
    private Runnable afterThaw = () -> {};

    /**
     * @param pool the pool's name at pool-service
     * @param poolId its id (chunks, key slots and generations are by id)
     * @param staging a folder of this run only (created; removed by {@link #close()})
     * @param freezeTimeout pool-service lets writes go on by itself after this, should this run
     *     never thaw
     */
    public LiveChunkSource(
            PoolServiceClient pools,
            DeviceServiceClient devices,
            String pool,
            String poolId,
            Path staging,
            Duration freezeTimeout) {
        this.pools = pools;
        this.devices = devices;
        this.pool = pool;
        this.poolId = poolId;
        this.staging = staging;
        this.freezeTimeout = freezeTimeout;
    }

    /**
     * Runs {@code action} once writes go on again after the snapshot, before any chunk is read:
     * where a test writes what the generation must not hold.
     */
    public LiveChunkSource afterThaw(Runnable action) {
        this.afterThaw = action;
        return this;
    }

    @Override
    public void capture(Map<String, Previous> previous) throws IOException, InterruptedException {
        if (snapshot != null) {
            throw new IllegalStateException("pool " + pool + " is captured already");
        }
        Files.createDirectories(staging);
        if (keySlot == null) {
            keySlot = devices.keySlot(poolId);
        }

        long start = System.nanoTime();
        Frozen frozen = pools.freeze(pool, freezeTimeout);
        long heldMillis = -1;
        try {
            if (!poolId.equals(frozen.poolId())) {
                throw new IOException(
                        "pool " + pool + " is now pool id " + frozen.poolId() + ", not " + poolId);
            }
            snapshot = devices.snapshot(poolId);
        } finally {
            // Always: a pool left frozen stalls every writer until pool-service's own timeout.
            try {
                heldMillis = pools.thaw(pool);
            } catch (IOException | RuntimeException e) {
                LOG.warnf(
                        "pool %s: thaw failed (%s); pool-service thaws by itself within %s",
                        pool, e.getMessage(), freezeTimeout);
            }
            barrierMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        }
        LOG.infof(
                "pool %s: writes held %d ms for snapshot %s (pool-service: %d ms frozen,"
                        + " crypto-device-service: %d us barrier)",
                pool, barrierMillis, snapshot.snapshotId(), heldMillis, snapshot.barrierMicros());

        afterThaw.run();

        Map<String, SnapshotChunk> byId = new LinkedHashMap<>();
        snapshot.chunks().forEach(c -> byId.put(c.chunkId(), c));
        Set<String> inPool = new HashSet<>();
        frozen.vdevs().forEach(inPool::addAll);
        if (!byId.keySet().containsAll(inPool)) {
            Set<String> missing = new HashSet<>(inPool);
            missing.removeAll(byId.keySet());
            throw new IOException(
                    "the snapshot of pool " + pool + " lacks chunks " + missing + " of its vdevs");
        }

        Map<String, String> shape = new LinkedHashMap<>();
        shape.put("capture", "live-snapshot");
        shape.put("vdevs", Integer.toString(frozen.vdevs().size()));
        for (int v = 0; v < frozen.vdevs().size(); v++) {
            shape.put("vdev." + v, String.join(",", frozen.vdevs().get(v)));
        }
        layout = shape;

        SegmentStager stager = new SegmentStager(staging);
        List<SourceChunk> out = new ArrayList<>();
        for (String chunkId : inPool.stream().sorted().toList()) {
            SnapshotChunk c = byId.get(chunkId);
            Previous before = previous.get(chunkId);
            IntPredicate mayHaveChanged = changedSegments(c, before);
            int readBefore = stager.segmentsRead();
            out.add(
                    stager.stage(
                            chunkId,
                            c.sizeBytes(),
                            c.version(),
                            before,
                            mayHaveChanged,
                            (offset, length) ->
                                    devices.range(snapshot.snapshotId(), chunkId, offset, length)));
            if (stager.segmentsRead() > readBefore) {
                chunksCopied++;
            }
        }
        chunks = List.copyOf(out);
        segmentsRead = stager.segmentsRead();
        bytesRead = stager.bytesRead();
        LOG.infof(
                "pool %s: %d of %d chunks changed since the previous generation; %d of %d"
                        + " segments (%d bytes) read from snapshot %s",
                pool,
                chunksCopied,
                out.size(),
                stager.segmentsRead(),
                stager.segments(),
                stager.bytesRead(),
                snapshot.snapshotId());
    }

    /**
     * Which segments of a chunk may differ from the previous generation's: none when its (epoch,
     * writes) is the same, those overlapping the regions crypto-device-service saw written since
     * the previous capture when the epoch is the same, all otherwise.
     */
    private IntPredicate changedSegments(SnapshotChunk c, Previous before)
            throws IOException, InterruptedException {
        if (before == null || before.version() == null || before.sizeBytes() != c.sizeBytes()) {
            return k -> true;
        }
        if (c.version().equals(before.version())) {
            return k -> false;
        }
        Optional<List<long[]>> regions =
                devices.changes(snapshot.snapshotId(), c.chunkId(), before.version());
        if (regions.isEmpty()) {
            return k -> true;
        }
        BitSet dirty = new BitSet();
        long seg = Manifest.SEGMENT_BYTES;
        for (long[] r : regions.get()) {
            if (r[1] <= 0) {
                continue;
            }
            dirty.set((int) (r[0] / seg), (int) ((r[0] + r[1] - 1) / seg) + 1);
        }
        return dirty::get;
    }

    @Override
    public String poolId() {
        return poolId;
    }

    @Override
    public List<SourceChunk> chunks() {
        if (snapshot == null) {
            throw new IllegalStateException("capture() first");
        }
        return chunks;
    }

    @Override
    public byte[] keySlot() {
        // A run opens the slot with the passphrase before it captures anything, so a wrong
        // passphrase never freezes the pool: the slot is fetched here on first use.
        if (keySlot == null) {
            try {
                keySlot = devices.keySlot(poolId);
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "cannot fetch the key slot of pool " + poolId + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(
                        "interrupted while fetching the key slot of pool " + poolId, e);
            }
        }
        return keySlot.clone();
    }

    @Override
    public Map<String, String> layout() {
        return layout;
    }

    @Override
    public String description() {
        return "live snapshot of pool " + poolId;
    }

    @Override
    public OptionalLong barrierMillis() {
        return barrierMillis < 0 ? OptionalLong.empty() : OptionalLong.of(barrierMillis);
    }

    /** How many chunks this capture read anything of from the snapshot. */
    public int chunksCopied() {
        return chunksCopied;
    }

    /** How many segments this capture read from the snapshot (the others were unchanged). */
    public int segmentsRead() {
        return segmentsRead;
    }

    /** How many bytes this capture read from the snapshot. */
    public long bytesRead() {
        return bytesRead;
    }

    @Override
    public void checkUnchanged() {
        // The snapshot is immutable and the staging files are this run's own.
    }

    @Override
    public void close() throws IOException {
        try {
            if (snapshot != null) {
                devices.deleteSnapshot(snapshot.snapshotId());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while dropping snapshot " + snapshot.snapshotId());
        } finally {
            GenerationStore.deleteTree(staging);
        }
    }
}
