package io.szpool.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncryptedChunkFileTest {

    private static final int UNIT = EncryptedChunkFile.UNIT_SIZE;
    private static final long CHUNK_SIZE = 64L << 20;

    @TempDir Path dir;

    private final Random random = new Random(11);

    private XtsKey key() {
        return XtsKey.of(XtsCipherTest.randomKey(random));
    }

    /** Random unit-aligned writes of random lengths: bytes back as written, the rest zeros. */
    @Test
    void readsBackWhatWasWrittenAndZerosElsewhere() throws IOException {
        Path file = dir.resolve("chunk");
        EncryptedChunkFile.createSparse(file, CHUNK_SIZE);
        byte[] model = new byte[(int) CHUNK_SIZE];
        byte[] raw = XtsCipherTest.randomKey(random);
        try (XtsKey key = XtsKey.of(raw);
                EncryptedChunkFile chunk = EncryptedChunkFile.open(file, key)) {
            for (int i = 0; i < 40; i++) {
                int units = 1 + random.nextInt(i % 5 == 0 ? 700 : 16);
                long offset = (long) random.nextInt((int) (CHUNK_SIZE / UNIT) - units) * UNIT;
                byte[] data = new byte[units * UNIT];
                random.nextBytes(data);
                ByteBuffer src = i % 2 == 0 ? ByteBuffer.wrap(data) : direct(data);
                chunk.write(offset, src);
                assertFalse(src.hasRemaining());
                System.arraycopy(data, 0, model, (int) offset, data.length);
            }
            // A plaintext of zeros is data, not a hole: dm-crypt must read it back too.
            chunk.write(0, ByteBuffer.allocate(2 * UNIT));
            Arrays.fill(model, 0, 2 * UNIT, (byte) 0);

            assertReadsAsModel(chunk, model);
        }
        // And again after closing and reopening.
        try (XtsKey again = XtsKey.of(raw);
                EncryptedChunkFile chunk = EncryptedChunkFile.open(file, again)) {
            assertReadsAsModel(chunk, model);
        }
    }

    private void assertReadsAsModel(EncryptedChunkFile chunk, byte[] model) throws IOException {
        // Whole-chunk read in one request (heap) and in pieces (direct).
        ByteBuffer all = ByteBuffer.allocate(model.length);
        chunk.read(0, all);
        assertArrayEquals(model, all.array());
        for (int i = 0; i < 50; i++) {
            int units = 1 + random.nextInt(300);
            long offset = (long) random.nextInt(model.length / UNIT - units) * UNIT;
            ByteBuffer part = ByteBuffer.allocateDirect(units * UNIT);
            chunk.read(offset, part);
            assertFalse(part.hasRemaining());
            byte[] got = new byte[units * UNIT];
            part.flip().get(got);
            assertArrayEquals(
                    Arrays.copyOfRange(model, (int) offset, (int) offset + got.length),
                    got,
                    "read at " + offset);
        }
    }

    @Test
    void ciphertextOnDiskIsNotThePlaintextAndIsDmCryptFormat() throws IOException {
        Path file = dir.resolve("chunk");
        EncryptedChunkFile.createSparse(file, 1 << 20);
        byte[] plaintext =
                "the same sentence in every unit, padded out to a full unit"
                        .repeat(UNIT / 32)
                        .substring(0, UNIT)
                        .repeat(4)
                        .getBytes(StandardCharsets.US_ASCII);
        byte[] raw = XtsCipherTest.randomKey(random);
        try (XtsKey key = XtsKey.of(raw);
                EncryptedChunkFile chunk = EncryptedChunkFile.open(file, key)) {
            chunk.write(5 * UNIT, ByteBuffer.wrap(plaintext));
            chunk.flush();
        }
        byte[] onDisk = Files.readAllBytes(file);
        byte[] written = Arrays.copyOfRange(onDisk, 5 * UNIT, 9 * UNIT);
        assertFalse(new String(onDisk, StandardCharsets.ISO_8859_1).contains("same sentence"));
        // Equal plaintext units encrypt differently: the tweak is the unit's position.
        assertFalse(
                Arrays.equals(
                        Arrays.copyOfRange(written, 0, UNIT),
                        Arrays.copyOfRange(written, UNIT, 2 * UNIT)));

        // The escape hatch: the units decrypt with a stock XTS given dm-crypt's plain64 IVs.
        Optional<ReferenceXts> reference = ReferenceXts.find();
        assumeTrue(reference.isPresent(), ReferenceXts.whyNone());
        assertArrayEquals(
                plaintext,
                reference.get().decryptUnits(raw, UNIT, 5, written),
                "units 5-8 with " + reference.get().name());
    }

    /** NBD requests come in direct buffers; they take their own path and must match the heap's. */
    @Test
    void directBuffersWriteTheSameCiphertextAndReadTheSamePlaintext() throws IOException {
        byte[] raw = XtsCipherTest.randomKey(random);
        byte[] plain = new byte[(2 << 20) + 5 * UNIT]; // more than one slice
        random.nextBytes(plain);
        Path heapFile = dir.resolve("heap");
        Path directFile = dir.resolve("direct");
        EncryptedChunkFile.createSparse(heapFile, CHUNK_SIZE);
        EncryptedChunkFile.createSparse(directFile, CHUNK_SIZE);
        long offset = 3L * UNIT;
        try (XtsKey key = XtsKey.of(raw);
                EncryptedChunkFile heap = EncryptedChunkFile.open(heapFile, key);
                EncryptedChunkFile direct = EncryptedChunkFile.open(directFile, key)) {
            heap.write(offset, ByteBuffer.wrap(plain));
            ByteBuffer src = ByteBuffer.allocateDirect(plain.length).put(plain).flip();
            direct.write(offset, src);
            assertEquals(0, src.remaining());
            heap.flush();
            direct.flush();
            assertArrayEquals(
                    Files.readAllBytes(heapFile),
                    Files.readAllBytes(directFile),
                    "same ciphertext from a direct source");

            // Read across written units and holes on both sides, into a direct buffer.
            int length = plain.length + 4 * UNIT;
            ByteBuffer back = ByteBuffer.allocateDirect(length);
            direct.read(offset - 2 * UNIT, back);
            assertEquals(0, back.remaining());
            byte[] got = new byte[length];
            back.flip().get(got);
            byte[] expected = new byte[length];
            System.arraycopy(plain, 0, expected, 2 * UNIT, plain.length);
            assertArrayEquals(expected, got, "direct read: plaintext, holes as zeros");
        }
    }

    /**
     * O_DIRECT changes how the bytes reach the disk, never which bytes: the same writes from heap,
     * aligned and unaligned direct buffers, and trims, leave the same ciphertext as the page cache
     * does; reads into every kind of buffer see plaintext and holes; a buffered reader of the file
     * (a backup, rsync) sees what the direct writes put there.
     */
    @Test
    void directIoWritesTheSameCiphertextAsThePageCache() throws IOException {
        byte[] raw = XtsCipherTest.randomKey(random);
        Path bufferedFile = dir.resolve("buffered");
        Path directFile = dir.resolve("direct");
        EncryptedChunkFile.createSparse(bufferedFile, CHUNK_SIZE);
        EncryptedChunkFile.createSparse(directFile, CHUNK_SIZE);
        byte[] model = new byte[(int) CHUNK_SIZE];
        try (XtsKey key = XtsKey.of(raw);
                EncryptedChunkFile buffered =
                        EncryptedChunkFile.open(
                                bufferedFile,
                                key,
                                EncryptedChunkFile.TrimMode.WRITE_ZEROS,
                                EncryptedChunkFile.IoMode.BUFFERED);
                EncryptedChunkFile direct =
                        EncryptedChunkFile.open(
                                directFile,
                                key,
                                EncryptedChunkFile.TrimMode.WRITE_ZEROS,
                                EncryptedChunkFile.IoMode.DIRECT)) {
            assertFalse(buffered.directIo());
            assumeTrue(direct.directIo(), "the test folder's file system refuses O_DIRECT");
            for (int i = 0; i < 60; i++) {
                int units = 1 + random.nextInt(i % 10 == 0 ? 600 : 40); // some above one slice
                long offset = (long) random.nextInt((int) (CHUNK_SIZE / UNIT) - units) * UNIT;
                byte[] data = new byte[units * UNIT];
                random.nextBytes(data);
                System.arraycopy(data, 0, model, (int) offset, data.length);
                buffered.write(offset, ByteBuffer.wrap(data));
                direct.write(offset, sourceOfKind(i % 3, data));
                if (i % 7 == 6) {
                    long trimAt = (long) random.nextInt((int) (CHUNK_SIZE / UNIT) - 64) * UNIT;
                    int trimmed = (1 + random.nextInt(64)) * UNIT;
                    Arrays.fill(model, (int) trimAt, (int) trimAt + trimmed, (byte) 0);
                    buffered.trim(trimAt, trimmed);
                    direct.trim(trimAt, trimmed);
                }
            }
            buffered.flush();
            direct.flush();
            // A buffered reader of the chunk file, as a backup reads it.
            assertArrayEquals(
                    Files.readAllBytes(bufferedFile),
                    Files.readAllBytes(directFile),
                    "direct I/O left other ciphertext than the page cache");
            for (int kind = 0; kind < 3; kind++) {
                for (int i = 0; i < 20; i++) {
                    int units = 1 + random.nextInt(i == 0 ? 700 : 50);
                    long offset = (long) random.nextInt((int) (CHUNK_SIZE / UNIT) - units) * UNIT;
                    byte[] expected =
                            Arrays.copyOfRange(model, (int) offset, (int) offset + units * UNIT);
                    assertArrayEquals(
                            expected,
                            readInto(direct, kind, offset, units * UNIT),
                            "direct read into buffer kind " + kind + " at " + offset);
                }
            }
        }
    }

    /** 0: a heap buffer, 1: a direct buffer at an aligned address, 2: one at an unaligned one. */
    private static ByteBuffer sourceOfKind(int kind, byte[] data) {
        return bufferOfKind(kind, data.length).put(data).flip();
    }

    private static ByteBuffer bufferOfKind(int kind, int length) {
        return switch (kind) {
            case 0 -> ByteBuffer.allocate(length);
            case 1 -> ByteBuffer.allocateDirect(length + UNIT).alignedSlice(UNIT).limit(length);
            default -> {
                ByteBuffer b = ByteBuffer.allocateDirect(length + 2 * UNIT).alignedSlice(UNIT);
                yield b.position(16).slice().limit(length);
            }
        };
    }

    private static byte[] readInto(EncryptedChunkFile chunk, int kind, long offset, int length)
            throws IOException {
        ByteBuffer dst = bufferOfKind(kind, length);
        chunk.read(offset, dst);
        assertEquals(0, dst.remaining());
        byte[] got = new byte[length];
        dst.flip().get(got);
        return got;
    }

    @Test
    void fileStaysSparse() throws IOException {
        Path file = dir.resolve("chunk");
        EncryptedChunkFile.createSparse(file, CHUNK_SIZE);
        OptionalLong empty = allocatedBytes(file);
        assumeTrue(empty.isPresent(), "stat is not available to count allocated blocks");
        assertTrue(empty.getAsLong() < 64 * 1024, "a new chunk allocates nothing: " + empty);
        try (XtsKey key = key();
                EncryptedChunkFile chunk = EncryptedChunkFile.open(file, key)) {
            byte[] data = new byte[16 * UNIT];
            for (int i = 0; i < 8; i++) {
                random.nextBytes(data);
                chunk.write((long) i * (8 << 20), ByteBuffer.wrap(data));
            }
            // Reads of holes must not fill them in.
            chunk.read(UNIT * 100L, ByteBuffer.allocate(1 << 20));
            chunk.flush();
        }
        long allocated = allocatedBytes(file).getAsLong();
        long written = 8L * 16 * UNIT;
        assertTrue(
                allocated >= written && allocated < written + (1 << 20),
                "wrote " + written + " bytes into a 64 MiB chunk, " + allocated + " allocated");
    }

    @Test
    void trimmedUnitsReadAsZerosAndGiveSpaceBack() throws IOException {
        for (EncryptedChunkFile.TrimMode mode : EncryptedChunkFile.TrimMode.values()) {
            Path file = dir.resolve("chunk-" + mode);
            EncryptedChunkFile.createSparse(file, 8 << 20);
            byte[] data = new byte[4 << 20];
            random.nextBytes(data);
            try (XtsKey key = key();
                    EncryptedChunkFile chunk = EncryptedChunkFile.open(file, key, mode)) {
                chunk.write(1 << 20, ByteBuffer.wrap(data));
                chunk.flush();
                OptionalLong before = allocatedBytes(file);
                chunk.trim(2 << 20, 2 << 20);
                chunk.trim(0, 0);
                chunk.flush();

                ByteBuffer back = ByteBuffer.allocate(4 << 20);
                chunk.read(1 << 20, back);
                byte[] expected = data.clone();
                Arrays.fill(expected, 1 << 20, 3 << 20, (byte) 0);
                assertArrayEquals(expected, back.array(), mode.toString());

                // The trimmed range is zero ciphertext on disk, whichever way it got there.
                byte[] raw = new byte[2 << 20];
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    channel.read(ByteBuffer.wrap(raw), 2 << 20);
                }
                assertTrue(Holes.isZero(raw, 0, raw.length));

                OptionalLong after = allocatedBytes(file);
                if (mode == EncryptedChunkFile.TrimMode.PUNCH_HOLE
                        && before.isPresent()
                        && fallocateWorks()) {
                    assertTrue(
                            after.getAsLong() <= before.getAsLong() - (2 << 20),
                            "punching 2 MiB freed only "
                                    + (before.getAsLong() - after.getAsLong()));
                }
            }
        }
    }

    @Test
    void threadsWritingAndReadingDisjointRangesSeeTheirOwnBytes() throws Exception {
        Path file = dir.resolve("chunk");
        EncryptedChunkFile.createSparse(file, 16 << 20);
        int threads = 4;
        try (XtsKey key = key();
                EncryptedChunkFile chunk = EncryptedChunkFile.open(file, key)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long base = (long) t * (4 << 20);
                    long seed = t;
                    done.add(
                            pool.submit(
                                    () -> {
                                        Random mine = new Random(seed);
                                        for (int i = 0; i < 30; i++) {
                                            byte[] data = new byte[(1 + mine.nextInt(64)) * UNIT];
                                            mine.nextBytes(data);
                                            long at = base + (long) mine.nextInt(512) * UNIT;
                                            chunk.write(at, ByteBuffer.wrap(data));
                                            ByteBuffer back = ByteBuffer.allocate(data.length);
                                            chunk.read(at, back);
                                            assertArrayEquals(data, back.array());
                                        }
                                        return null;
                                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void refusesMisalignedAndOutOfRangeRequests() throws IOException {
        Path file = dir.resolve("chunk");
        EncryptedChunkFile.createSparse(file, 1 << 20);
        assertThrows(IOException.class, () -> EncryptedChunkFile.createSparse(file, 1 << 20));
        assertThrows(
                IllegalArgumentException.class,
                () -> EncryptedChunkFile.createSparse(dir.resolve("odd"), 1000));
        try (XtsKey key = key();
                EncryptedChunkFile chunk = EncryptedChunkFile.open(file, key)) {
            assertEquals(1 << 20, chunk.size());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> chunk.read(512, ByteBuffer.allocate(UNIT)));
            assertThrows(
                    IllegalArgumentException.class, () -> chunk.write(0, ByteBuffer.allocate(100)));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> chunk.read((1 << 20) - UNIT, ByteBuffer.allocate(2 * UNIT)));
            assertThrows(IllegalArgumentException.class, () -> chunk.trim(1 << 20, UNIT));
        }
        Path odd = dir.resolve("odd-size");
        Files.write(odd, new byte[1000]);
        try (XtsKey key = key()) {
            assertThrows(IOException.class, () -> EncryptedChunkFile.open(odd, key));
        }
    }

    private static ByteBuffer direct(byte[] data) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(data.length);
        buffer.put(data).flip();
        return buffer;
    }

    /** Allocated size from stat(1): blocks times block size; empty where stat is missing. */
    static OptionalLong allocatedBytes(Path file) {
        try {
            Process stat = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).start();
            String out =
                    new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)
                            .trim();
            if (!stat.waitFor(10, TimeUnit.SECONDS) || stat.exitValue() != 0) {
                return OptionalLong.empty();
            }
            String[] fields = out.split(" ");
            return OptionalLong.of(Long.parseLong(fields[0]) * Long.parseLong(fields[1]));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalLong.empty();
        }
    }

    private boolean fallocateWorks() {
        try {
            Path probe = dir.resolve("probe");
            Files.write(probe, new byte[UNIT]);
            Process p =
                    new ProcessBuilder(
                                    "fallocate",
                                    "--punch-hole",
                                    "--keep-size",
                                    "--offset",
                                    "0",
                                    "--length",
                                    Integer.toString(UNIT),
                                    probe.toString())
                            .start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
