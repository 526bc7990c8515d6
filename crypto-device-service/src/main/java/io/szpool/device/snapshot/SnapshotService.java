package io.szpool.device.snapshot;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.szpool.device.chunk.ChunkRecord;
import io.szpool.device.chunk.ChunkRegistry;
import io.szpool.device.chunk.ChunkSpec;
import io.szpool.device.config.DeviceConfig;
import io.szpool.device.config.DeviceConfig.DriverKind;
import io.szpool.device.device.DeviceExports;
import io.szpool.device.device.EncryptedDevice;
import io.szpool.service.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Crash-consistent snapshots of a pool's chunk devices: every device frozen at one instant, then a
 * copy-on-write overlay per device, so a backup can read each chunk's ciphertext as of that instant
 * while the pool keeps writing. Snapshots live in memory and in side files under {@code
 * DATA/snapshots/}; a restart forgets them.
 */
@ApplicationScoped
public class SnapshotService {
    private static final Logger LOG = Logger.getLogger(SnapshotService.class);

    /** A chunk's state at the barrier: same (epoch, writes) as before = unchanged since. */
    public record ChunkState(String chunkId, long sizeBytes, UUID epoch, long writes) {}

    public record SnapshotInfo(
            String snapshotId,
            String poolId,
            Instant createdAt,
            long barrierMicros,
            List<ChunkState> chunks) {}

    private record Snapshot(SnapshotInfo info, Path folder, Map<String, Frozen> chunks) {}

    private record Frozen(ChunkOverlay overlay, EncryptedDevice device) {}

    private final DeviceConfig config;
    private final ChunkRegistry registry;
    private final DeviceExports exports;
    private final Path root;
    private final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();
    private ScheduledExecutorService sweeper;

    public SnapshotService(DeviceConfig config, ChunkRegistry registry, DeviceExports exports) {
        this.config = config;
        this.registry = registry;
        this.exports = exports;
        this.root = config.dataDir().toAbsolutePath().resolve("snapshots");
    }

    void start(@Observes StartupEvent event) {
        // Side files of a previous run belong to snapshots nobody can name any more.
        deleteTree(root);
        Duration maxAge = config.snapshots().maxAge();
        long every = Math.max(1000, Math.min(maxAge.toMillis() / 4, 60_000));
        sweeper =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "snapshot-expiry");
                            t.setDaemon(true);
                            return t;
                        });
        sweeper.scheduleWithFixedDelay(
                () -> dropOlderThan(Instant.now().minus(maxAge)),
                every,
                every,
                TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        for (String id : List.copyOf(snapshots.keySet())) {
            drop(id);
        }
    }

    /**
     * Freezes the pool's chunks (or the named ones of it) at one instant. Refuses, creating
     * nothing, when the pool has no chunk here (404), a named chunk is not the pool's (404), or a
     * chunk is detached or not served by the embedded driver (409).
     */
    public SnapshotInfo create(String poolId, List<String> chunkIds) {
        ChunkSpec.requirePoolId(poolId);
        List<ChunkRecord> ofPool =
                registry.all().stream()
                        .filter(r -> r.poolId().equals(poolId))
                        .sorted(Comparator.comparing(ChunkRecord::chunkId))
                        .toList();
        if (ofPool.isEmpty()) {
            throw ProblemException.notFound("no chunk of pool " + poolId + " on this host");
        }
        List<ChunkRecord> chosen = choose(poolId, ofPool, chunkIds);
        if (config.driver() != DriverKind.EMBEDDED) {
            throw ProblemException.conflict(
                    "snapshots need the embedded driver; this host runs the "
                            + config.driver().name().toLowerCase()
                            + " driver, whose devices the kernel writes without us");
        }
        String id = UUID.randomUUID().toString();
        Path folder = root.resolve(id);
        return exports.whileAttachmentsStay(() -> freeze(id, folder, poolId, chosen));
    }

    private static List<ChunkRecord> choose(
            String poolId, List<ChunkRecord> ofPool, List<String> chunkIds) {
        if (chunkIds == null) {
            return ofPool;
        }
        if (chunkIds.isEmpty()) {
            throw ProblemException.badRequest(
                    "chunkIds must name at least one chunk; leave it out for all of the pool's");
        }
        Set<String> wanted = new LinkedHashSet<>();
        for (String chunkId : chunkIds) {
            if (chunkId == null || chunkId.isBlank()) {
                throw ProblemException.badRequest("chunkIds holds an empty chunk id");
            }
            wanted.add(chunkId);
        }
        Set<String> known = new HashSet<>();
        ofPool.forEach(r -> known.add(r.chunkId()));
        List<String> foreign = wanted.stream().filter(c -> !known.contains(c)).toList();
        if (!foreign.isEmpty()) {
            throw ProblemException.notFound(
                    "not chunks of pool "
                            + poolId
                            + " on this host: "
                            + String.join(", ", foreign));
        }
        return ofPool.stream().filter(r -> wanted.contains(r.chunkId())).toList();
    }

    // Runs with attach and detach held off, so the devices looked up here are the ones served.
    private SnapshotInfo freeze(String id, Path folder, String poolId, List<ChunkRecord> chosen) {
        List<EncryptedDevice> devices = new ArrayList<>();
        List<String> detached = new ArrayList<>();
        for (ChunkRecord r : chosen) {
            exports.device(r.chunkId())
                    .ifPresentOrElse(devices::add, () -> detached.add(r.chunkId()));
        }
        if (!detached.isEmpty()) {
            throw ProblemException.conflict(
                    "chunks of pool "
                            + poolId
                            + " are not attached: "
                            + String.join(", ", detached)
                            + "; attach them or name only attached ones in chunkIds");
        }
        // Everything that costs I/O happens before the barrier: the barrier only flips pointers.
        List<ChunkOverlay> overlays = new ArrayList<>();
        try {
            for (int i = 0; i < chosen.size(); i++) {
                String chunkId = chosen.get(i).chunkId();
                overlays.add(
                        ChunkOverlay.open(
                                chunkId,
                                registry.chunkFile(chunkId),
                                devices.get(i).size(),
                                folder.resolve(chunkId)));
            }
        } catch (IOException e) {
            overlays.forEach(SnapshotService::closeQuietly);
            throw new UncheckedIOException("cannot open the chunk files of pool " + poolId, e);
        }
        List<ChunkState> states = new ArrayList<>();
        Map<String, Frozen> frozen = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        int held = 0;
        try {
            // Chunk-id order; creation is serialized anyway, so two barriers never wait on each
            // other.
            for (EncryptedDevice device : devices) {
                device.gate().hold();
                held++;
            }
            for (int i = 0; i < devices.size(); i++) {
                EncryptedDevice device = devices.get(i);
                ChunkOverlay overlay = overlays.get(i);
                device.gate().add(overlay);
                frozen.put(overlay.chunkId(), new Frozen(overlay, device));
                states.add(
                        new ChunkState(
                                overlay.chunkId(),
                                overlay.sizeBytes(),
                                device.epoch(),
                                device.writes()));
            }
        } finally {
            for (int i = 0; i < held; i++) {
                devices.get(i).gate().release();
            }
        }
        long barrierMicros = (System.nanoTime() - start) / 1000;
        SnapshotInfo info = new SnapshotInfo(id, poolId, Instant.now(), barrierMicros, states);
        snapshots.put(id, new Snapshot(info, folder, frozen));
        LOG.infof(
                "snapshot %s of pool %s: %d chunks frozen in %d µs",
                id, poolId, states.size(), barrierMicros);
        return info;
    }

    public SnapshotInfo info(String snapshotId) {
        return existing(snapshotId).info();
    }

    /** The chunk's size and a writer of its ciphertext as of the snapshot. */
    public record ChunkStream(long sizeBytes, StreamWriter writer) {}

    @FunctionalInterface
    public interface StreamWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    public ChunkStream chunk(String snapshotId, String chunkId) {
        Frozen f = frozen(snapshotId, chunkId);
        return new ChunkStream(f.overlay().sizeBytes(), f.overlay()::copyTo);
    }

    /**
     * {@code length} bytes of the chunk's ciphertext from {@code offset} as of the snapshot: a
     * backup that knows which regions changed reads only those. 400 for a range that is not whole
     * units inside the chunk.
     */
    public ChunkStream chunk(String snapshotId, String chunkId, long offset, long length) {
        Frozen f = frozen(snapshotId, chunkId);
        long size = f.overlay().sizeBytes();
        if (offset < 0
                || length < 0
                || offset % ChunkOverlay.UNIT != 0
                || length % ChunkOverlay.UNIT != 0
                || offset + length > size) {
            throw ProblemException.badRequest(
                    "offset and length must be whole "
                            + ChunkOverlay.UNIT
                            + "-byte units inside the chunk's "
                            + size
                            + " bytes; got offset "
                            + offset
                            + ", length "
                            + length);
        }
        return new ChunkStream(length, out -> f.overlay().copyTo(out, offset, length));
    }

    /**
     * What changed in a chunk between an earlier snapshot and this one.
     *
     * @param all true when the earlier snapshot's epoch is not this device's (a restart or a
     *     re-attach since, or no earlier snapshot): everything counts as changed
     * @param regions offset and length of each run of changed regions, merged; a superset of what
     *     changed (writes after this snapshot may add regions), never a subset
     */
    public record ChunkChanges(
            String chunkId,
            long sizeBytes,
            int regionBytes,
            String sinceEpoch,
            long sinceWrites,
            boolean all,
            List<long[]> regions) {}

    /**
     * The regions of {@code chunkId} written since the snapshot whose state of it was ({@code
     * epoch}, {@code writes}). The tracker lives in memory for the device's open: a restart gives a
     * new epoch, and with it {@code all}: conservative, never wrong.
     */
    public ChunkChanges changes(String snapshotId, String chunkId, String epoch, long writes) {
        Frozen f = frozen(snapshotId, chunkId);
        long size = f.overlay().sizeBytes();
        int region = EncryptedDevice.REGION_BYTES;
        if (writes < 0) {
            throw ProblemException.badRequest("writes must be >= 0, got " + writes);
        }
        if (epoch == null || !epoch.equals(f.device().epoch().toString())) {
            return new ChunkChanges(
                    chunkId, size, region, epoch, writes, true, List.of(new long[] {0, size}));
        }
        java.util.BitSet written = f.device().regionsWrittenAfter(writes);
        List<long[]> runs = new ArrayList<>();
        for (int r = written.nextSetBit(0); r >= 0; ) {
            int end = written.nextClearBit(r);
            long from = (long) r * region;
            runs.add(new long[] {from, Math.min(size, (long) end * region) - from});
            r = written.nextSetBit(end);
        }
        return new ChunkChanges(chunkId, size, region, epoch, writes, false, List.copyOf(runs));
    }

    private Frozen frozen(String snapshotId, String chunkId) {
        Frozen f = existing(snapshotId).chunks().get(chunkId);
        if (f == null) {
            throw ProblemException.notFound(
                    "snapshot " + snapshotId + " holds no chunk " + chunkId);
        }
        return f;
    }

    /** Drops a snapshot and deletes its side files. */
    public void delete(String snapshotId) {
        existing(snapshotId);
        if (!drop(snapshotId)) {
            throw notFound(snapshotId);
        }
    }

    /** Drops every snapshot made before {@code cutoff}; answers how many. */
    public int dropOlderThan(Instant cutoff) {
        int dropped = 0;
        for (Snapshot s : List.copyOf(snapshots.values())) {
            if (s.info().createdAt().isBefore(cutoff) && drop(s.info().snapshotId())) {
                LOG.warnf(
                        "snapshot %s of pool %s dropped: older than %s and never deleted",
                        s.info().snapshotId(), s.info().poolId(), config.snapshots().maxAge());
                dropped++;
            }
        }
        return dropped;
    }

    /** The folder of a snapshot's side files (tests look into it). */
    public Path folder(String snapshotId) {
        return root.resolve(snapshotId);
    }

    private boolean drop(String snapshotId) {
        Snapshot s = snapshots.remove(snapshotId);
        if (s == null) {
            return false;
        }
        for (Frozen f : s.chunks().values()) {
            // First out of the write path, then closed: a write already past the gate finds the
            // overlay closed and passes.
            f.device().gate().remove(f.overlay());
            closeQuietly(f.overlay());
        }
        deleteTree(s.folder());
        return true;
    }

    private Snapshot existing(String snapshotId) {
        Snapshot s = snapshots.get(snapshotId);
        if (s == null) {
            throw notFound(snapshotId);
        }
        return s;
    }

    private static ProblemException notFound(String snapshotId) {
        return ProblemException.notFound(
                "no snapshot "
                        + snapshotId
                        + " (snapshots do not survive a restart and expire after a maximum age)");
    }

    private static void closeQuietly(ChunkOverlay overlay) {
        try {
            overlay.close();
        } catch (IOException e) {
            LOG.errorf("cannot remove the side file %s: %s", overlay.sideFile(), e.getMessage());
        }
    }

    private static void deleteTree(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.errorf("cannot remove snapshot side files in %s: %s", folder, e.getMessage());
        }
    }
}
