package io.szpool.raidz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.MemoryBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Write-outs at the dirty limit between durable commits: they must never touch what the last
 * committed map references, so a crash before the next durable commit imports that state whole.
 */
class WriteOutTest {
    private static final int SECTOR = 512;
    private static final int STRIPE = 4 * 4096; // 6-wide, 4 KiB columns
    private static final int[][] LOST_PAIRS = {{0, 1}, {2, 5}, {3, 4}};

    // Two stripes per write-out, so a few writes make many write-outs; no timer commits.
    private static final PoolOptions OPTIONS =
            PoolOptions.DEFAULTS.withDirtyLimitBytes(2L * STRIPE).withTxgTimeoutMillis(0);

    @Test
    void crashAfterWriteOutsImportsTheLastCommittedStateWhole() throws IOException {
        Random seeds = new Random(77);
        for (int iteration = 0; iteration < 8; iteration++) {
            long seed = seeds.nextLong();
            Random random = new Random(seed);
            Setup setup = new Setup(seed);
            byte[] committed = new byte[1 << 20];
            random.nextBytes(committed);
            setup.pool.write(0, ByteBuffer.wrap(committed), false);
            setup.pool.flush();
            setup.startRecording();

            // Partial-stripe writes: every one rewrites a stripe whose other sectors hold
            // committed data that a torn write-out must not damage.
            for (int op = 0; op < 200; op++) {
                int sectors = 1 + random.nextInt(3);
                int at = random.nextInt(committed.length / SECTOR - sectors);
                byte[] data = new byte[sectors * SECTOR];
                random.nextBytes(data);
                setup.pool.write((long) at * SECTOR, ByteBuffer.wrap(data), false);
            }
            assertTrue(
                    setup.dataWritesSinceRecording() >= 50,
                    "seed " + seed + ": the dirty limit wrote stripes out");
            setup.assertNoDurableCommitSinceRecording(seed);
            setup.assertCommittedStripesUntouched(seed);

            setup.crash.fire();
            for (Pool pool : setup.imports()) {
                assertArrayEquals(committed, read(pool, committed.length), "seed " + seed);
            }
            ScrubResult scrub = Pool.importFrom(setup.durable()).scrub();
            assertEquals(0, scrub.bytesRepaired(), "seed " + seed + ": committed stripes torn");
            assertEquals(0, scrub.bytesUnrecoverable(), "seed " + seed);
        }
    }

    @Test
    void writeOutsOnAFullVolumeNeverOverwriteCommittedStripes() throws IOException {
        Setup setup = new Setup(5);
        Random random = new Random(5);
        // A full volume: the only free stripes are the reserve.
        byte[] committed = new byte[(int) setup.pool.size()];
        random.nextBytes(committed);
        setup.pool.write(0, ByteBuffer.wrap(committed), false);
        setup.pool.flush();
        setup.startRecording();

        // Many write-outs of the same three stripes: each copy replaces an uncommitted one, so
        // the reserve is never used up and no durable commit is needed.
        byte[] model = committed.clone();
        for (int op = 0; op < 300; op++) {
            int stripe = 100 + random.nextInt(3);
            int at = stripe * STRIPE + random.nextInt(STRIPE / SECTOR - 2) * SECTOR;
            byte[] data = new byte[2 * SECTOR];
            random.nextBytes(data);
            setup.pool.write(at, ByteBuffer.wrap(data), false);
            System.arraycopy(data, 0, model, at, data.length);
        }
        assertArrayEquals(model, read(setup.pool, model.length), "reads see the write-outs");
        assertTrue(setup.dataWritesSinceRecording() >= 100, "the dirty limit wrote stripes out");
        setup.assertNoDurableCommitSinceRecording(5);
        setup.assertCommittedStripesUntouched(5);

        setup.crash.fire();
        for (Pool pool : setup.imports()) {
            assertArrayEquals(committed, read(pool, committed.length));
        }
    }

    @Test
    void overwritesBeyondTheReserveForceDurableCommitsAndReadBack() throws IOException {
        Setup setup = new Setup(9);
        Random random = new Random(9);
        byte[] model = new byte[(int) setup.pool.size()];
        random.nextBytes(model);
        setup.pool.write(0, ByteBuffer.wrap(model), false);
        setup.pool.flush();
        setup.startRecording();

        // Three times as many committed stripes overwritten as the reserve holds, no flush:
        // only durable commits (which free the replaced stripes) make room for them.
        int reserve = setup.pool.vdev(0).layout().reserveStripes();
        for (int stripe = 0; stripe < 3 * reserve; stripe++) {
            byte[] data = new byte[SECTOR];
            random.nextBytes(data);
            int at = stripe * 7 * STRIPE + SECTOR;
            setup.pool.write(at, ByteBuffer.wrap(data), false);
            System.arraycopy(data, 0, model, at, data.length);
        }
        assertTrue(
                setup.flushesSinceRecording() > 0,
                "running short of the reserve made a durable commit without a flush");
        assertArrayEquals(model, read(setup.pool, model.length));
        setup.pool.flush();
        setup.crash.fire();
        for (Pool pool : setup.imports()) {
            assertArrayEquals(model, read(pool, model.length));
        }
    }

    /**
     * The pipeline: while a sealed group's stripes are held on their way to the devices, the writer
     * that sealed it has its answer and other writers fill the next group without waiting, reads
     * see the group's data, a trim of one of its stripes wins over its publication; a crash then
     * imports the last committed state whole and the FLUSH after it fails.
     */
    @Test
    void writersGoOnWhileAGroupIsInFlightAndACrashThenImportsTheCommittedState() throws Exception {
        Gate gate = new Gate();
        Setup setup = new Setup(31, gate);
        Random random = new Random(31);
        byte[] committed = writeAndFlush(setup.pool, random);
        setup.startRecording();
        byte[] model = committed.clone();
        ExecutorService threads = Executors.newCachedThreadPool();
        try {
            // Three whole stripes: the third seals the first two (the dirty limit), a write-out
            // thread takes them to the devices and is held at the gate; the third goes into the
            // open group, and the writer is answered while its first two stripes are held.
            byte[] first = new byte[3 * STRIPE];
            random.nextBytes(first);
            System.arraycopy(first, 0, model, 10 * STRIPE, first.length);
            Future<?> sealer = writeHeldAtTheGate(threads, gate, setup.pool, 10 * STRIPE, first);
            sealer.get(60, TimeUnit.SECONDS);
            assertTrue(gate.held() > 0, "the sealing writer was answered before its write-out");

            // Another writer, a partial write on top of a stripe in flight and a rewrite of the
            // open group's stripe: both land in the open group while the group in flight waits.
            byte[] onTop = new byte[SECTOR];
            random.nextBytes(onTop);
            System.arraycopy(onTop, 0, model, 10 * STRIPE + 3 * SECTOR, SECTOR);
            byte[] again = new byte[STRIPE];
            random.nextBytes(again);
            System.arraycopy(again, 0, model, 12 * STRIPE, STRIPE);
            threads.submit(
                            () -> {
                                setup.pool.write(
                                        10 * STRIPE + 3 * SECTOR, ByteBuffer.wrap(onTop), false);
                                setup.pool.write(12 * STRIPE, ByteBuffer.wrap(again), false);
                                return null;
                            })
                    .get(60, TimeUnit.SECONDS);
            // A trim of the other stripe in flight: it must read as zeroes from now on.
            setup.pool.trim(11 * STRIPE, STRIPE, false);
            Arrays.fill(model, 11 * STRIPE, 12 * STRIPE, (byte) 0);
            assertArrayEquals(model, read(setup.pool, model.length), "reads see every group");
            assertTrue(gate.held() > 0, "the group was still in flight");
            setup.assertNoDurableCommitSinceRecording(31);
            setup.assertCommittedStripesUntouched(31);

            setup.crash.fire();
            gate.open();
            // The writers were answered; the lost group breaks the vdev, so the FLUSH that would
            // have made their data durable reports it.
            assertThrows(IOException.class, setup.pool::flush, "a lost group fails the flush");
            assertThrows(
                    IOException.class,
                    () -> setup.pool.write(0, ByteBuffer.allocate(SECTOR), false),
                    "and every later request");
            for (Pool pool : setup.imports()) {
                assertArrayEquals(committed, read(pool, committed.length));
            }
            ScrubResult scrub = Pool.importFrom(setup.durable()).scrub();
            assertEquals(0, scrub.bytesRepaired(), "committed stripes torn");
        } finally {
            gate.open();
            threads.shutdownNow();
        }
    }

    /** The same pipeline without a crash: what was in flight, and what overtook it, is durable. */
    @Test
    void aGroupPublishedAfterItWasOvertakenKeepsTheNewestDataDurable() throws Exception {
        Gate gate = new Gate();
        Setup setup = new Setup(32, gate);
        Random random = new Random(32);
        byte[] model = writeAndFlush(setup.pool, random);
        ExecutorService threads = Executors.newCachedThreadPool();
        try {
            byte[] first = new byte[3 * STRIPE];
            random.nextBytes(first);
            System.arraycopy(first, 0, model, 4 * STRIPE, first.length);
            Future<?> sealer = writeHeldAtTheGate(threads, gate, setup.pool, 4 * STRIPE, first);
            sealer.get(60, TimeUnit.SECONDS);
            byte[] onTop = new byte[2 * SECTOR];
            random.nextBytes(onTop);
            System.arraycopy(onTop, 0, model, 5 * STRIPE + SECTOR, onTop.length);
            setup.pool.write(5 * STRIPE + SECTOR, ByteBuffer.wrap(onTop), false);
            setup.pool.trim(4 * STRIPE, STRIPE, false);
            Arrays.fill(model, 4 * STRIPE, 5 * STRIPE, (byte) 0);
            long allocatedWhileInFlight = setup.pool.allocatedBytes();

            assertTrue(gate.held() > 0, "the group was still in flight");
            // The FLUSH waits for the group in flight: the crash below keeps all of it.
            Future<?> flush =
                    threads.submit(
                            () -> {
                                setup.pool.flush();
                                return null;
                            });
            gate.open();
            flush.get(60, TimeUnit.SECONDS);
            assertEquals(allocatedWhileInFlight, setup.pool.allocatedBytes());
            assertArrayEquals(model, read(setup.pool, model.length));
            setup.crash.fire();
            for (Pool pool : setup.imports()) {
                assertArrayEquals(model, read(pool, model.length));
            }
        } finally {
            gate.open();
            threads.shutdownNow();
        }
    }

    /**
     * Starts a write of three stripes on another thread and returns once the write-out of the first
     * two (sealed by the third at the dirty limit) is held at the closed gate.
     */
    private static Future<?> writeHeldAtTheGate(
            ExecutorService threads, Gate gate, Pool pool, long offset, byte[] data)
            throws InterruptedException {
        gate.close();
        Future<?> sealer =
                threads.submit(
                        () -> {
                            pool.write(offset, ByteBuffer.wrap(data), false);
                            return null;
                        });
        gate.awaitHeld();
        return sealer;
    }

    /**
     * Holds device writes to the data area while closed, so a test can catch a write-out in flight;
     * metadata writes (labels, map, uberblocks) pass.
     */
    private static final class Gate {
        private final Object monitor = new Object();
        private boolean closed;
        private int held;
        private long dataStart = Long.MAX_VALUE;

        void close() {
            synchronized (monitor) {
                closed = true;
            }
        }

        void open() {
            synchronized (monitor) {
                closed = false;
                monitor.notifyAll();
            }
        }

        int held() {
            synchronized (monitor) {
                return held;
            }
        }

        void awaitHeld() throws InterruptedException {
            synchronized (monitor) {
                while (held == 0) {
                    monitor.wait();
                }
            }
        }

        private void pass(long offset) throws IOException {
            synchronized (monitor) {
                if (offset < dataStart) {
                    return;
                }
                held++;
                monitor.notifyAll();
                try {
                    while (closed) {
                        monitor.wait();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted at the gate", e);
                } finally {
                    held--;
                }
            }
        }

        BlockDevice wrap(CrashableDevice device) {
            dataStart = VdevLayout.compute(6, 4096, PoolTest.DEVICE).dataStart();
            FaultyDevice held = new FaultyDevice(device);
            held.beforeWrite = this::pass;
            return held;
        }
    }

    /** Fills the first MiB with random bytes and commits it; returns what was written. */
    private static byte[] writeAndFlush(Pool pool, Random random) throws IOException {
        byte[] data = new byte[1 << 20];
        random.nextBytes(data);
        pool.write(0, ByteBuffer.wrap(data), false);
        pool.flush();
        return data;
    }

    private static byte[] read(Pool pool, int length) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(length);
        pool.read(0, got);
        return got.array();
    }

    /** Six crashable devices, a pool on them, and what the devices saw since a point. */
    private static final class Setup {
        final CrashableDevice.Crash crash;
        final List<CrashableDevice> devices = new ArrayList<>();
        final Pool pool;
        private int[] logStart;
        private int flushStart;
        private BitSet committedStripes;

        Setup(long seed) throws IOException {
            this(seed, null);
        }

        /** With a gate, every device write goes through it (see {@link Gate}). */
        Setup(long seed, Gate gate) throws IOException {
            crash = new CrashableDevice.Crash(Integer.MAX_VALUE, seed);
            List<BlockDevice> members = new ArrayList<>();
            for (int d = 0; d < 6; d++) {
                CrashableDevice device =
                        new CrashableDevice(new MemoryBlockDevice(PoolTest.DEVICE), crash);
                devices.add(device);
                members.add(gate == null ? device : gate.wrap(device));
            }
            pool = Pool.create("writeout", List.of(members), OPTIONS);
        }

        /** Call right after a flush: the in-memory map is then the committed one. */
        void startRecording() {
            committedStripes = pool.vdev(0).mappedStripes();
            logStart = new int[devices.size()];
            for (int d = 0; d < devices.size(); d++) {
                logStart[d] = devices.get(d).writeLog.size();
            }
            flushStart = flushes();
        }

        int flushes() {
            return devices.stream().mapToInt(d -> d.flushes.get()).sum();
        }

        int flushesSinceRecording() {
            return flushes() - flushStart;
        }

        List<long[]> writesSinceRecording(int d) {
            List<long[]> log = devices.get(d).writeLog;
            synchronized (log) {
                return new ArrayList<>(log.subList(logStart[d], log.size()));
            }
        }

        int dataWritesSinceRecording() {
            long dataStart = pool.vdev(0).layout().dataStart();
            int count = 0;
            for (int d = 0; d < devices.size(); d++) {
                for (long[] w : writesSinceRecording(d)) {
                    count += w[0] >= dataStart ? 1 : 0;
                }
            }
            return count;
        }

        /** No flush, and no write to the uberblock ring or the map: no txg was committed. */
        void assertNoDurableCommitSinceRecording(long seed) {
            assertEquals(0, flushesSinceRecording(), "seed " + seed + ": a device was flushed");
            long dataStart = pool.vdev(0).layout().dataStart();
            for (int d = 0; d < devices.size(); d++) {
                for (long[] w : writesSinceRecording(d)) {
                    if (w[0] < dataStart && w[0] + w[1] > VdevLayout.UBERBLOCK_START) {
                        fail(
                                "seed "
                                        + seed
                                        + ": device "
                                        + d
                                        + " written at "
                                        + w[0]
                                        + " (uberblock or map) without a commit");
                    }
                }
            }
        }

        void assertCommittedStripesUntouched(long seed) {
            VdevLayout layout = pool.vdev(0).layout();
            for (int d = 0; d < devices.size(); d++) {
                for (long[] w : writesSinceRecording(d)) {
                    if (w[0] < layout.dataStart()) {
                        continue;
                    }
                    long first = (w[0] - layout.dataStart()) / layout.columnSize();
                    long last = (w[0] + w[1] - 1 - layout.dataStart()) / layout.columnSize();
                    for (long s = first; s <= last; s++) {
                        if (committedStripes.get((int) s)) {
                            fail(
                                    "seed "
                                            + seed
                                            + ": device "
                                            + d
                                            + " overwrote committed stripe "
                                            + s);
                        }
                    }
                }
            }
        }

        List<BlockDevice> durable() {
            List<BlockDevice> list = new ArrayList<>();
            for (CrashableDevice d : devices) {
                list.add(d.durable);
            }
            return list;
        }

        /** The pool imported from what reached the media: whole, and with each pair lost. */
        List<Pool> imports() throws IOException {
            List<Pool> pools = new ArrayList<>();
            pools.add(Pool.importFrom(durable()));
            for (int[] lost : LOST_PAIRS) {
                List<BlockDevice> survivors = new ArrayList<>(durable());
                survivors.remove(lost[1]);
                survivors.remove(lost[0]);
                pools.add(Pool.importFrom(survivors));
            }
            return pools;
        }
    }
}
