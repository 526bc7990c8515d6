package io.szpool.raidz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.MemoryBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Crashes a pool at a random device write (volatile caches lose a random subset of unflushed
 * writes, one torn), re-imports it and checks: every sector holds its flushed content or a version
 * written since, and the same holds with two devices gone (the write hole: a torn stripe must not
 * spoil its neighbours' reconstruction).
 */
class CrashTest {
    private static final int SECTOR = 512;
    private static final int SPAN = 1 << 20; // the workload stays in the first MiB
    private static final int ITERATIONS = 40;

    @Test
    void flushedDataSurvivesCrashesAndTornStripesDoNotSpoilNeighbours() throws IOException {
        Random seeds = new Random(2024);
        int crashesHit = 0;
        for (int iteration = 0; iteration < ITERATIONS; iteration++) {
            long seed = seeds.nextLong();
            if (runOnce(seed)) {
                crashesHit++;
            }
        }
        assertTrue(crashesHit > ITERATIONS / 2, "most runs crashed mid-way: " + crashesHit);
    }

    private boolean runOnce(long seed) throws IOException {
        Random random = new Random(seed);
        CrashableDevice.Crash crash = new CrashableDevice.Crash(Integer.MAX_VALUE, seed);
        List<CrashableDevice> devices = new ArrayList<>();
        for (int d = 0; d < 6; d++) {
            devices.add(new CrashableDevice(new MemoryBlockDevice(PoolTest.DEVICE), crash));
        }
        // A small transaction group, so commits also happen between flushes.
        PoolOptions options = PoolOptions.DEFAULTS.withDirtyLimitBytes(64 * 1024);
        Pool pool = Pool.create("crash", List.of(devices), options);
        byte[] flushed = new byte[SPAN];
        random.nextBytes(flushed);
        pool.write(0, ByteBuffer.wrap(flushed), false);
        pool.flush();

        Map<Integer, List<byte[]>> sinceFlush = new HashMap<>();
        crash.writesLeft.set(random.nextInt(400));
        boolean crashed = false;
        try {
            for (int op = 0; op < 300; op++) {
                if (random.nextInt(8) == 0) {
                    pool.flush();
                    for (Map.Entry<Integer, List<byte[]>> e : sinceFlush.entrySet()) {
                        List<byte[]> versions = e.getValue();
                        byte[] last = versions.get(versions.size() - 1);
                        System.arraycopy(last, 0, flushed, e.getKey() * SECTOR, SECTOR);
                    }
                    sinceFlush.clear();
                    continue;
                }
                int sectors = 1 + random.nextInt(16);
                int at = random.nextInt(SPAN / SECTOR - sectors);
                byte[] data = new byte[sectors * SECTOR];
                random.nextBytes(data);
                // Recorded before the call: a write that fails in the crash may still land.
                for (int s = 0; s < sectors; s++) {
                    sinceFlush
                            .computeIfAbsent(at + s, k -> new ArrayList<>())
                            .add(Arrays.copyOfRange(data, s * SECTOR, (s + 1) * SECTOR));
                }
                pool.write((long) at * SECTOR, ByteBuffer.wrap(data), false);
            }
        } catch (IOException e) {
            crashed = true;
        }
        crash.fire();

        List<BlockDevice> durable = new ArrayList<>();
        for (CrashableDevice d : devices) {
            durable.add(d.durable);
        }
        byte[] whole = readSpan(Pool.importFrom(durable));
        check(whole, flushed, sinceFlush, seed, "all devices");
        // Two devices gone: every stripe is rebuilt from parity, torn or not.
        for (int[] lost : new int[][] {{0, 1}, {2, 5}, {3, 4}}) {
            List<BlockDevice> survivors = new ArrayList<>(durable);
            survivors.remove(lost[1]);
            survivors.remove(lost[0]);
            byte[] degraded = readSpan(Pool.importFrom(survivors));
            // Not necessarily equal to the full read: if the crash hit while uberblocks were
            // written, the newest one may sit only on the lost devices, and the unflushed txg
            // before it is as legal an outcome.
            check(degraded, flushed, sinceFlush, seed, "without devices " + Arrays.toString(lost));
        }
        Pool again = Pool.importFrom(durable);
        assertEquals(0, again.scrub().bytesUnrecoverable(), "seed " + seed);
        return crashed;
    }

    private static byte[] readSpan(Pool pool) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(SPAN);
        pool.read(0, got);
        return got.array();
    }

    private static void check(
            byte[] actual,
            byte[] flushed,
            Map<Integer, List<byte[]>> sinceFlush,
            long seed,
            String what) {
        for (int s = 0; s < SPAN / SECTOR; s++) {
            byte[] got = Arrays.copyOfRange(actual, s * SECTOR, (s + 1) * SECTOR);
            if (Arrays.equals(got, 0, SECTOR, flushed, s * SECTOR, (s + 1) * SECTOR)) {
                continue;
            }
            boolean written = false;
            for (byte[] version : sinceFlush.getOrDefault(s, List.of())) {
                written |= Arrays.equals(got, version);
            }
            if (!written) {
                fail(
                        "seed "
                                + seed
                                + " ("
                                + what
                                + "): sector "
                                + s
                                + " holds neither its"
                                + " flushed content nor a later write");
            }
        }
    }
}
