package io.szpool.raidz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.FileBlockDevice;
import io.szpool.nbd.MemoryBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PoolTest {
    static final long DEVICE = 4L << 20;
    static final int BLOCK = 4096;

    @Test
    void randomWritesReadBackAndSurviveReimport() throws IOException {
        List<MemoryBlockDevice> devices = memoryDevices(6);
        Pool pool = Pool.create("tank", List.of(devices));
        assertTrue(pool.size() > 14L << 20, "6 x 4 MiB gives about 4 x 4 MiB");
        Random random = new Random(1);
        byte[] model = new byte[(int) pool.size()];
        randomWrites(pool, model, random, 300);
        assertContent(pool, model);
        pool.flush();
        randomWrites(pool, model, random, 100);
        pool.close();

        Pool again = Pool.importFrom(devices);
        assertEquals("tank", again.name());
        assertEquals(Health.ONLINE, again.health());
        assertContent(again, model);
    }

    @Test
    void twoDamagedDevicesStillReadBackAndScrubRepairs() throws IOException {
        for (int pattern = 0; pattern < 4; pattern++) {
            List<MemoryBlockDevice> memory = memoryDevices(6);
            List<FaultyDevice> devices = memory.stream().map(FaultyDevice::new).toList();
            Pool pool = Pool.create("tank", List.of(devices));
            Random random = new Random(10 + pattern);
            byte[] model = fill(pool, random, 8 << 20);
            pool.flush();

            String what = damageTwo(pattern, memory, devices, random);
            assertContent(pool, model);
            ScrubResult scrub = pool.scrub();
            assertEquals(0, scrub.bytesUnrecoverable(), what);
            long errors =
                    pool.status().stream()
                            .mapToLong(s -> s.readErrors() + s.writeErrors() + s.checksumErrors())
                            .sum();
            assertTrue(errors > 0, what + ": errors are counted");
            assertNotEquals(Health.FAULTED, pool.health(), what);

            for (FaultyDevice d : devices) {
                d.fault = FaultyDevice.Fault.NONE;
            }
            if (pattern < 2) {
                // Corrupted, not failed: the scrub rewrote them, so a second scrub finds nothing.
                assertTrue(scrub.bytesRepaired() > 0, what + ": scrub repaired");
                pool.clearErrors();
                assertEquals(0, pool.scrub().bytesRepaired(), what + ": second scrub is clean");
                assertEquals(Health.ONLINE, pool.health(), what);
            }
            pool.close();
            Pool again = Pool.importFrom(devices);
            assertContent(again, model);
            again.close();
        }
    }

    /** Damages two devices of the vdev in the given pattern and says how. */
    private static String damageTwo(
            int pattern, List<MemoryBlockDevice> memory, List<FaultyDevice> devices, Random random)
            throws IOException {
        switch (pattern) {
            case 0 -> {
                for (int d : new int[] {1, 4}) {
                    for (int i = 0; i < 40; i++) {
                        long at = random.nextLong(DEVICE - 70_000);
                        byte[] junk = new byte[1 + random.nextInt(65536)];
                        random.nextBytes(junk);
                        memory.get(d).write(at, ByteBuffer.wrap(junk), false);
                    }
                }
                return "random ranges overwritten on devices 1 and 4";
            }
            case 1 -> {
                memory.get(2).writeZeroes(0, DEVICE, true, false);
                byte[] junk = new byte[(int) DEVICE / 2];
                random.nextBytes(junk);
                memory.get(5).write(DEVICE / 4, ByteBuffer.wrap(junk), false);
                return "device 2 zeroed, half of device 5 random";
            }
            case 2 -> {
                devices.get(0).fault = FaultyDevice.Fault.THROW_ALWAYS;
                devices.get(3).fault = FaultyDevice.Fault.GARBAGE_ON_READ;
                return "device 0 throws, device 3 returns garbage";
            }
            default -> {
                devices.get(1).fault = FaultyDevice.Fault.THROW_ON_READ;
                devices.get(2).fault = FaultyDevice.Fault.THROW_ON_READ;
                return "devices 1 and 2 fail every read";
            }
        }
    }

    @Test
    void threeDamagedDevicesFailWithIoErrorNeverWrongData() throws IOException {
        List<MemoryBlockDevice> memory = memoryDevices(6);
        Pool pool = Pool.create("tank", List.of(memory));
        Random random = new Random(3);
        byte[] model = fill(pool, random, 4 << 20);
        pool.flush();
        // The same ranges of the data area on three devices: those stripes lose three columns.
        long dataStart = VdevLayout.compute(6, 4096, DEVICE).dataStart();
        for (int i = 0; i < 10; i++) {
            long at = dataStart + random.nextInt(1 << 20);
            for (int d : new int[] {0, 2, 5}) {
                byte[] junk = new byte[8192];
                random.nextBytes(junk);
                memory.get(d).write(at, ByteBuffer.wrap(junk), false);
            }
        }
        int failed = 0;
        int stripe = 16384;
        for (int at = 0; at < 4 << 20; at += stripe) {
            ByteBuffer got = ByteBuffer.allocate(stripe);
            try {
                pool.read(at, got);
                assertArrayEquals(
                        java.util.Arrays.copyOfRange(model, at, at + stripe),
                        got.array(),
                        "offset " + at);
            } catch (IOException e) {
                assertTrue(
                        e.getMessage().contains("columns unreadable or damaged"), e.getMessage());
                failed++;
            }
        }
        assertTrue(failed > 0, "some stripes have three bad columns");
        ScrubResult scrub = pool.scrub();
        assertEquals((long) failed * stripe, scrub.bytesUnrecoverable());
    }

    @Test
    void threeDevicesGoneFaultsTheVdevAndFailsReads() throws IOException {
        List<FaultyDevice> devices = memoryDevices(6).stream().map(FaultyDevice::new).toList();
        Pool pool = Pool.create("tank", List.of(devices));
        fill(pool, new Random(4), 1 << 20);
        pool.flush();
        for (int d : new int[] {0, 1, 2}) {
            devices.get(d).fault = FaultyDevice.Fault.THROW_ALWAYS;
        }
        for (int i = 0; i < 20; i++) {
            assertThrows(IOException.class, () -> pool.read(0, ByteBuffer.allocate(65536)));
        }
        assertEquals(Health.FAULTED, pool.health());
    }

    @Test
    void importsShuffledAndDegradedAndRefusesForeignOrMismatchedDevices() throws IOException {
        List<MemoryBlockDevice> devices = memoryDevices(6);
        Pool pool = Pool.create("tank", List.of(devices));
        byte[] model = fill(pool, new Random(5), 4 << 20);
        pool.close();

        List<BlockDevice> shuffled = new ArrayList<>(devices);
        Collections.shuffle(shuffled, new Random(5));
        Pool again = Pool.importFrom(shuffled);
        assertContent(again, model, 4 << 20);
        again.close();

        Pool degraded = Pool.importFrom(shuffled.subList(2, 6));
        assertEquals(Health.DEGRADED, degraded.health());
        assertContent(degraded, model, 4 << 20);
        degraded.close();

        IOException tooFew =
                assertThrows(IOException.class, () -> Pool.importFrom(shuffled.subList(3, 6)));
        assertTrue(tooFew.getMessage().contains("only 3 of 6 devices"), tooFew.getMessage());

        List<MemoryBlockDevice> other = memoryDevices(6);
        Pool.create("other", List.of(other)).close();
        List<BlockDevice> mixed = new ArrayList<>(devices);
        mixed.add(other.get(0));
        IOException foreign = assertThrows(IOException.class, () -> Pool.importFrom(mixed));
        assertTrue(foreign.getMessage().contains("two pools"), foreign.getMessage());
        IOException wrongName =
                assertThrows(
                        IOException.class,
                        () -> Pool.importFrom(other, "tank", PoolOptions.DEFAULTS));
        assertTrue(wrongName.getMessage().contains("'other'"), wrongName.getMessage());

        List<BlockDevice> duplicated = new ArrayList<>(devices.subList(0, 5));
        duplicated.add(copyOf(devices.get(0)));
        IOException copy = assertThrows(IOException.class, () -> Pool.importFrom(duplicated));
        assertTrue(copy.getMessage().contains("both claim vdev 0 column 0"), copy.getMessage());

        List<BlockDevice> withBlank = new ArrayList<>(devices.subList(0, 5));
        withBlank.add(new MemoryBlockDevice(DEVICE));
        Pool blank = Pool.importFrom(withBlank);
        assertEquals(1, blank.skippedDevices().size());
        assertContent(blank, model, 4 << 20);
    }

    @Test
    void growsOnlineAndImportsBothVdevs() throws IOException {
        List<MemoryBlockDevice> first = memoryDevices(6);
        Pool pool = Pool.create("tank", List.of(first));
        long before = pool.size();
        Random random = new Random(6);
        byte[] head = new byte[1 << 20];
        random.nextBytes(head);
        pool.write(before - head.length, ByteBuffer.wrap(head), false);

        List<MemoryBlockDevice> second = memoryDevices(4);
        pool.addVdev(second);
        assertEquals(2, pool.vdevCount());
        assertTrue(pool.size() > before);
        // A write across the boundary of the two vdevs.
        byte[] across = new byte[2 << 20];
        random.nextBytes(across);
        pool.write(before - (1 << 20), ByteBuffer.wrap(across), false);
        pool.close();

        List<BlockDevice> all = new ArrayList<>(second);
        all.addAll(first);
        Collections.shuffle(all, random);
        Pool again = Pool.importFrom(all);
        assertEquals(2, again.vdevCount());
        ByteBuffer got = ByteBuffer.allocate(across.length);
        again.read(before - (1 << 20), got);
        assertArrayEquals(across, got.array());
    }

    @Test
    void trimFreesBlocksAndAllocatedIsPersisted() throws IOException {
        List<MemoryBlockDevice> devices = memoryDevices(6);
        Pool pool = Pool.create("tank", List.of(devices));
        assertEquals(0, pool.allocatedBytes());
        int stripe = 4 * 4096;
        byte[] data = new byte[64 * stripe];
        new Random(7).nextBytes(data);
        pool.write(0, ByteBuffer.wrap(data), false);
        assertEquals(data.length, pool.allocatedBytes());
        pool.trim(16 * stripe + 100, 16 * stripe, false); // 15 whole stripes inside
        assertEquals(data.length - 15L * stripe, pool.allocatedBytes());
        pool.writeZeroes(40 * stripe, 8 * stripe, true, false);
        assertEquals(data.length - 23L * stripe, pool.allocatedBytes());
        ByteBuffer zeroes = ByteBuffer.allocate(8 * stripe);
        pool.read(40 * stripe, zeroes);
        assertArrayEquals(new byte[8 * stripe], zeroes.array());
        pool.close();

        Pool again = Pool.importFrom(devices);
        assertEquals(data.length - 23L * stripe, again.allocatedBytes());
        ByteBuffer kept = ByteBuffer.allocate(16 * stripe);
        again.read(0, kept);
        assertArrayEquals(java.util.Arrays.copyOf(data, 16 * stripe), kept.array());
    }

    @Test
    void replaceResilversTheNewDevice() throws IOException {
        List<MemoryBlockDevice> devices = memoryDevices(6);
        Pool pool = Pool.create("tank", List.of(devices));
        byte[] model = fill(pool, new Random(8), 6 << 20);
        pool.flush();
        MemoryBlockDevice fresh = new MemoryBlockDevice(DEVICE);
        ScrubResult resilver = pool.replace(0, 3, fresh);
        assertTrue(resilver.bytesRepaired() >= (6 << 20) / 4, "the column was rebuilt");
        assertEquals(Health.ONLINE, pool.health());
        pool.close();

        // The resilvered device carries its share: lose two others and read everything.
        List<BlockDevice> survivors = new ArrayList<>(devices);
        survivors.set(3, fresh);
        survivors.remove(5);
        survivors.remove(0);
        Pool again = Pool.importFrom(survivors);
        assertContent(again, model, 6 << 20);
        // The replaced device is refused by its stale label.
        List<BlockDevice> stale = new ArrayList<>(survivors);
        stale.add(devices.get(3));
        IOException e = assertThrows(IOException.class, () -> Pool.importFrom(stale));
        assertTrue(e.getMessage().contains("replaced"), e.getMessage());
    }

    @Test
    void fileBackedPoolSurvivesReopen(@TempDir Path folder) throws IOException {
        List<FileBlockDevice> files = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            files.add(FileBlockDevice.create(folder.resolve("chunk-" + i), DEVICE));
        }
        Pool pool = Pool.create("files", List.of(files));
        byte[] model = fill(pool, new Random(9), 4 << 20);
        pool.close();
        List<BlockDevice> reopened = new ArrayList<>();
        for (int i = 4; i >= 0; i--) {
            reopened.add(FileBlockDevice.open(folder.resolve("chunk-" + i), false));
        }
        Pool again = Pool.importFrom(reopened);
        assertContent(again, model, 4 << 20);
        again.close();
    }

    static List<MemoryBlockDevice> memoryDevices(int count) {
        List<MemoryBlockDevice> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(new MemoryBlockDevice(DEVICE));
        }
        return list;
    }

    static MemoryBlockDevice copyOf(MemoryBlockDevice device) {
        MemoryBlockDevice copy = new MemoryBlockDevice(device.size());
        ByteBuffer all = ByteBuffer.allocate((int) device.size());
        device.read(0, all);
        copy.write(0, all.flip(), false);
        return copy;
    }

    /** Writes {@code bytes} of random data from offset 0 in pieces of varied size. */
    static byte[] fill(Pool pool, Random random, int bytes) throws IOException {
        byte[] model = new byte[(int) pool.size()];
        random.nextBytes(model);
        java.util.Arrays.fill(model, bytes, model.length, (byte) 0);
        for (int at = 0; at < bytes; ) {
            int length = Math.min(bytes - at, 512 * (1 + random.nextInt(300)));
            pool.write(at, ByteBuffer.wrap(model, at, length), false);
            at += length;
        }
        return model;
    }

    static void randomWrites(Pool pool, byte[] model, Random random, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            int length = 1 + random.nextInt(100_000);
            int at = random.nextInt(model.length - length);
            byte[] data = new byte[length];
            random.nextBytes(data);
            System.arraycopy(data, 0, model, at, length);
            pool.write(at, ByteBuffer.wrap(data), false);
        }
    }

    static void assertContent(Pool pool, byte[] model) throws IOException {
        assertContent(pool, model, model.length);
    }

    static void assertContent(Pool pool, byte[] model, int length) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(length);
        pool.read(0, got);
        assertEquals(-1, java.util.Arrays.mismatch(model, 0, length, got.array(), 0, length));
    }
}
