package io.szpool.sync.source;

import io.szpool.sync.generation.GenerationStore;
import io.szpool.sync.source.DeviceServiceClient.Snapshot;
import io.szpool.sync.source.DeviceServiceClient.SnapshotChunk;
import io.szpool.sync.source.PoolServiceClient.Frozen;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * An imported, live pool captured at one instant: pool-service commits the pool and holds its
 * writes, crypto-device-service takes a copy-on-write snapshot of every chunk device, pool-service
 * lets writes go on. The barrier is those three calls, whatever the pool's size. Then, with writes
 * running, each chunk whose (epoch, writes) differs from the previous generation's is streamed from
 * the snapshot into a sparse staging file and digested on the way; an unchanged chunk is not read
 * at all: it becomes an empty placeholder of its size that the run links to the previous
 * generation's image, with that image's digest. {@link #close()} drops the snapshot.
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

        List<SourceChunk> out = new ArrayList<>();
        for (String chunkId : inPool.stream().sorted().toList()) {
            SnapshotChunk c = byId.get(chunkId);
            Path file = staging.resolve(chunkId);
            Previous before = previous.get(chunkId);
            if (before != null
                    && c.version().equals(before.version())
                    && before.sizeBytes() == c.sizeBytes()) {
                // Unchanged since the previous generation: not read; the run links the image that
                // is on the target already. The placeholder only gives rsync a size to compare.
                try (RandomAccessFile placeholder = new RandomAccessFile(file.toFile(), "rw")) {
                    placeholder.setLength(c.sizeBytes());
                }
                out.add(
                        new SourceChunk(
                                chunkId, file, c.sizeBytes(), before.sha256(), c.version()));
            } else {
                String sha256 = devices.download(snapshot.snapshotId(), c, file);
                chunksCopied++;
                out.add(new SourceChunk(chunkId, file, c.sizeBytes(), sha256, c.version()));
            }
        }
        chunks = List.copyOf(out);
        LOG.infof(
                "pool %s: %d of %d chunks changed since the previous generation and copied from"
                        + " snapshot %s",
                pool, chunksCopied, out.size(), snapshot.snapshotId());
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

    /** How many chunks this capture read from the snapshot (the others were unchanged). */
    public int chunksCopied() {
        return chunksCopied;
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
