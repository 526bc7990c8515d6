package io.szpool.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.nbd.NbdClient;
import io.szpool.raidz.Health;
import io.szpool.raidz.Pool;
import io.szpool.sync.generation.GenerationStore;
import io.szpool.sync.generation.GenerationStore.CheckReport;
import io.szpool.sync.generation.GenerationStore.ChunkCheck;
import io.szpool.sync.generation.GenerationStore.Generation;
import io.szpool.sync.generation.GenerationStore.SyncResult;
import io.szpool.sync.generation.Manifest;
import io.szpool.sync.generation.TargetKeys;
import io.szpool.sync.remote.Rsync;
import io.szpool.sync.remote.RsyncOptions;
import io.szpool.sync.remote.Target;
import io.szpool.sync.source.LiveChunkSource;
import io.szpool.testing.ProjectLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A live pool synced while it is written: the real crypto-device-service and pool-service (packaged
 * jars, real broker), the pool's volume written over NBD during the run, a local-folder target. The
 * generation must restore to the pool exactly as it was at the barrier.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class LiveCaptureIT {
    static final int BLOCK = 4096;
    static final long MARKER_AT = 8L << 20;
    static final int MARKER_LENGTH = 64 << 10;
    static final long SEQUENCE_AT = 32L << 20;
    static final int SEQUENCE_MAX = 4096;
    static final int SEGMENTS = (int) (LiveStack.DEFAULT_CHUNK / Manifest.SEGMENT_BYTES);

    static LiveStack stack;
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        work = ProjectLayout.target().resolve("live-it").resolve(UUID.randomUUID().toString());
        stack = new LiveStack(work.resolve("host-a"));
        stack.requireCaptureApi();
        stack.createPool(4);
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    /**
     * Marker A is on the volume before the run; B overwrites it as soon as the writes go on after
     * the snapshot, before the run reads any chunk from it; a writer appends numbered blocks all
     * through the run. The restored pool imports ONLINE, holds A (not B), and its numbered blocks
     * are a prefix of the sequence (nothing after a hole: one instant) that has at least every
     * block acknowledged before the run began.
     */
    @Test
    void aGenerationRestoresToTheStateAtTheBarrier() throws Exception {
        byte[] a = pattern(1);
        byte[] b = pattern(2);
        try (NbdClient volume = stack.openVolume()) {
            volume.write(MARKER_AT, ByteBuffer.wrap(a), false);
            volume.flush();
        }

        Path targetDir = Files.createDirectories(work.resolve("target"));
        GenerationStore store = localStore(targetDir, "work");
        AtomicInteger acked = new AtomicInteger();
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicReference<Throwable> writerFailed = new AtomicReference<>();
        Thread writer =
                new Thread(
                        () -> {
                            try (NbdClient volume = stack.openVolume()) {
                                for (int i = 0; i < SEQUENCE_MAX && writing.get(); i++) {
                                    volume.write(
                                            SEQUENCE_AT + (long) i * BLOCK,
                                            ByteBuffer.wrap(numbered(i)),
                                            false);
                                    // Acknowledged: from here on, a capture must hold block i.
                                    acked.set(i + 1);
                                    if (i % 16 == 15) {
                                        volume.flush();
                                    }
                                }
                            } catch (Throwable t) {
                                writerFailed.set(t);
                            }
                        },
                        "sequence-writer");
        writer.start();
        while (acked.get() < 32) {
            Thread.sleep(10);
        }

        int ackedBeforeRun = acked.get();
        AtomicBoolean bWritten = new AtomicBoolean();
        SyncResult result;
        try (TargetKeys keys = stack.targetKeys();
                LiveChunkSource live = liveSource("capture-1")) {
            live.afterThaw(() -> overwrite(b, bWritten));
            result = sync(store, live, keys);
        }
        writing.set(false);
        writer.join();
        if (writerFailed.get() != null) {
            throw new AssertionError("the writer failed", writerFailed.get());
        }
        assertTrue(bWritten.get(), "B was written during the run");
        assertEquals(1, result.generation());
        assertNotNull(result.barrierMillis(), "a live capture reports its barrier");
        try (NbdClient volume = stack.openVolume()) {
            assertArrayEquals(b, read(volume, MARKER_AT, MARKER_LENGTH), "B is on the live pool");
        }

        Path restored = work.resolve("restored");
        Generation g;
        CheckReport report;
        try (TargetKeys keys = stack.targetKeys()) {
            g =
                    store.catalog(slot -> Optional.of(keys), Optional.of(stack.poolId))
                            .latest()
                            .orElseThrow();
            report = store.restore(g, restored, new GenerationStore.Listener() {});
        }
        assertTrue(report.intact(), report.toString());
        List<String> ids = report.chunks().stream().map(ChunkCheck::chunkId).toList();
        List<NbdClient> devices = stack.attachRestored(restored, ids);
        try (Pool pool = LiveStack.importPool(devices)) {
            assertEquals(Health.ONLINE, pool.health(), "the restored pool imports cleanly");
            assertArrayEquals(a, read(pool, MARKER_AT, MARKER_LENGTH), "A, not B");
            int held = 0;
            boolean hole = false;
            for (int i = 0; i < SEQUENCE_MAX; i++) {
                byte[] block = read(pool, SEQUENCE_AT + (long) i * BLOCK, BLOCK);
                if (Arrays.equals(block, numbered(i))) {
                    assertTrue(!hole, "block " + i + " follows a hole: not one instant");
                    held++;
                } else {
                    assertArrayEquals(new byte[BLOCK], block, "block " + i + " is torn");
                    hole = true;
                }
            }
            assertTrue(
                    held >= ackedBeforeRun,
                    held + " numbered blocks restored, " + ackedBeforeRun + " acked before");
        } finally {
            for (NbdClient d : devices) {
                d.close();
            }
        }

        // Two of the four chunk images damaged on the target (one overwritten, one deleted): the
        // restore names them, and the pool imports DEGRADED from the other two with A intact.
        String overwritten = ids.get(0);
        String deleted = ids.get(2);
        try (TargetKeys keys = stack.targetKeys()) {
            Path folder = targetDir.resolve(keys.generationFolder(1));
            // Bytes 4 MiB .. 5 MiB of the chunk: the start of its segment 1.
            Path image = folder.resolve(keys.segmentFile(overwritten, 1));
            try (java.nio.channels.FileChannel f =
                    java.nio.channels.FileChannel.open(
                            image, java.nio.file.StandardOpenOption.WRITE)) {
                byte[] noise = new byte[1 << 20];
                new Random(99).nextBytes(noise);
                f.write(ByteBuffer.wrap(noise), 0);
            }
            for (int k = 0; k < SEGMENTS; k++) {
                Files.delete(folder.resolve(keys.segmentFile(deleted, k)));
            }
            report =
                    store.restore(
                            store.catalog(slot -> Optional.of(keys), Optional.of(stack.poolId))
                                    .latest()
                                    .orElseThrow(),
                            work.resolve("restored-damaged"),
                            new GenerationStore.Listener() {});
        }
        assertEquals(
                List.of(overwritten),
                report.with(ChunkCheck.DAMAGED).stream().map(ChunkCheck::chunkId).toList());
        assertEquals(
                List.of(deleted),
                report.with(ChunkCheck.MISSING).stream().map(ChunkCheck::chunkId).toList());
        List<String> intact = report.with(ChunkCheck.OK).stream().map(ChunkCheck::chunkId).toList();
        List<NbdClient> survivors = stack.attachRestored(work.resolve("restored-damaged"), intact);
        try (Pool pool = LiveStack.importPool(survivors)) {
            assertEquals(Health.DEGRADED, pool.health(), "two of four chunks lost: degraded");
            assertArrayEquals(a, read(pool, MARKER_AT, MARKER_LENGTH), "A, rebuilt from parity");
        } finally {
            for (NbdClient d : survivors) {
                d.close();
            }
        }
    }

    /**
     * After a first generation, 64 KiB written at one place of the volume: the second run reads
     * from the snapshot only the segments crypto-device-service saw written (the copy-on-write pool
     * puts the new blocks, map pages and uberblocks in a few places), sends about what changed,
     * links the rest, and its generation restores with the new bytes.
     */
    @Test
    void aSecondGenerationReadsOnlyTheSegmentsWrittenSinceTheFirst() throws Exception {
        GenerationStore store =
                localStore(Files.createDirectories(work.resolve("target-segments")), "work-s");
        byte[] c = pattern(3);
        long at = 20L << 20;
        SyncResult second;
        int read;
        int total;
        try (TargetKeys keys = stack.targetKeys()) {
            try (LiveChunkSource live = liveSource("capture-s1")) {
                sync(store, live, keys);
            }
            try (NbdClient volume = stack.openVolume()) {
                volume.write(at, ByteBuffer.wrap(c), false);
                volume.flush();
            }
            try (LiveChunkSource live = liveSource("capture-s2")) {
                second = sync(store, live, keys);
                read = live.segmentsRead();
                total = live.chunks().size() * SEGMENTS;
            }
        }
        System.out.printf(
                "second generation: %d of %d segments read, %d literal bytes, %d bytes sent,"
                        + " %d referenced%n",
                read, total, second.literalBytes(), second.bytesSent(), second.bytesReferenced());
        assertTrue(read > 0, "the write is in some segment");
        assertTrue(read <= total / 4, read + " of " + total + " segments read for a 64 KiB write");
        assertTrue(
                second.bytesReferenced() >= (long) (total - read) * Manifest.SEGMENT_BYTES,
                "every segment not read is linked: " + second.bytesReferenced());
        assertTrue(
                second.literalBytes() < read * Manifest.SEGMENT_BYTES / 2,
                "rsync sent the changes, not the segments: " + second.literalBytes());

        Path restored = work.resolve("restored-segments");
        CheckReport report;
        try (TargetKeys keys = stack.targetKeys()) {
            Generation g =
                    store.catalog(slot -> Optional.of(keys), Optional.of(stack.poolId))
                            .latest()
                            .orElseThrow();
            assertEquals(2, g.number());
            report = store.restore(g, restored, new GenerationStore.Listener() {});
        }
        assertTrue(report.intact(), report.toString());
        List<String> ids = report.chunks().stream().map(ChunkCheck::chunkId).toList();
        List<NbdClient> devices = stack.attachRestored(restored, ids);
        try (Pool pool = LiveStack.importPool(devices)) {
            assertEquals(Health.ONLINE, pool.health());
            assertArrayEquals(c, read(pool, at, MARKER_LENGTH), "the second generation's bytes");
        } finally {
            for (NbdClient d : devices) {
                d.close();
            }
        }
    }

    private static SyncResult sync(GenerationStore store, LiveChunkSource live, TargetKeys keys)
            throws Exception {
        return store.sync(live, keys, stack.hostId, 7, Set.of(), new GenerationStore.Listener() {});
    }

    private static GenerationStore localStore(Path targetDir, String workDir) {
        return new GenerationStore(
                new Rsync(
                        Target.parse(targetDir.toString()),
                        RsyncOptions.defaults().withRetries(2, Duration.ofMillis(200))),
                work.resolve(workDir));
    }

    private static LiveChunkSource liveSource(String capture) {
        return new LiveChunkSource(
                stack.poolClient(),
                stack.deviceClient(),
                stack.poolName,
                stack.poolId,
                work.resolve(capture),
                Duration.ofSeconds(5));
    }

    private static void overwrite(byte[] b, AtomicBoolean done) {
        try (NbdClient volume = stack.openVolume()) {
            volume.write(MARKER_AT, ByteBuffer.wrap(b), false);
            volume.flush();
            done.set(true);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write B", e);
        }
    }

    static byte[] pattern(long seed) {
        byte[] data = new byte[MARKER_LENGTH];
        new Random(seed).nextBytes(data);
        return data;
    }

    static byte[] numbered(int i) {
        byte[] block = new byte[BLOCK];
        new Random(1000 + i).nextBytes(block);
        ByteBuffer.wrap(block).putInt(i + 1);
        return block;
    }

    static byte[] read(io.szpool.nbd.BlockDevice device, long offset, int length)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        device.read(offset, buffer);
        return buffer.array();
    }
}
