package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The read/write/flush/trim/write-zeroes suite that {@link NbdClient} must pass against any
 * conforming server: ours, and nbdkit's memory and file plugins.
 */
abstract class NbdClientContract {
    /** Every server under test exports this many bytes, initially zero. */
    static final long EXPORT_SIZE = 64L << 20;

    protected NbdClient client;

    /** Starts (if needed) a server with a fresh zeroed export of EXPORT_SIZE and connects. */
    protected abstract NbdClient connect() throws Exception;

    protected void stopServer() throws Exception {}

    @BeforeEach
    void setUp() throws Exception {
        client = connect();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.close();
        }
        stopServer();
    }

    static byte[] random(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

    static byte[] read(BlockDevice device, long offset, int length) throws Exception {
        ByteBuffer buffer = ByteBuffer.allocateDirect(length);
        device.read(offset, buffer);
        assertFalse(buffer.hasRemaining());
        byte[] out = new byte[length];
        buffer.flip().get(out);
        return out;
    }

    @Test
    void reportsTheExportSizeAndAWritableDevice() {
        assertEquals(EXPORT_SIZE, client.size());
        assertFalse(client.readOnly());
    }

    @Test
    void writtenDataReadsBack() throws Exception {
        byte[] data = random(1 << 20, 1);
        client.write(4096, ByteBuffer.wrap(data), false);
        assertArrayEquals(data, read(client, 4096, data.length));
        assertArrayEquals(new byte[4096], read(client, 0, 4096), "untouched range stays zero");
    }

    @Test
    void writesAtTheLastBlockAndAcrossPagesReadBack() throws Exception {
        byte[] tail = random(8192, 2);
        client.write(EXPORT_SIZE - tail.length, ByteBuffer.wrap(tail), false);
        assertArrayEquals(tail, read(client, EXPORT_SIZE - tail.length, tail.length));
        byte[] across = random(3 * 65536 + 512, 3);
        client.write(65536 - 512, ByteBuffer.wrap(across), false);
        assertArrayEquals(across, read(client, 65536 - 512, across.length));
    }

    @Test
    void requestsLargerThanTheMaximumBlockSizeAreSplit() throws Exception {
        byte[] data = random(40 << 20, 4);
        client.write(0, ByteBuffer.wrap(data), false);
        assertArrayEquals(data, read(client, 0, data.length));
    }

    @Test
    void fuaWriteAndFlushSucceedAndKeepData() throws Exception {
        byte[] data = random(65536, 5);
        client.write(1 << 20, ByteBuffer.wrap(data), true);
        client.flush();
        assertArrayEquals(data, read(client, 1 << 20, data.length));
    }

    @Test
    void writeZeroesMakesARangeReadAsZero() throws Exception {
        byte[] data = random(1 << 20, 6);
        client.write(0, ByteBuffer.wrap(data), false);
        client.writeZeroes(4096, 65536, true, false);
        client.writeZeroes(256 << 10, 128 << 10, false, true);
        byte[] expected = data.clone();
        java.util.Arrays.fill(expected, 4096, 4096 + 65536, (byte) 0);
        java.util.Arrays.fill(expected, 256 << 10, (256 + 128) << 10, (byte) 0);
        assertArrayEquals(expected, read(client, 0, data.length));
    }

    @Test
    void trimThenOverwriteReadsTheNewData() throws Exception {
        byte[] first = random(1 << 20, 7);
        client.write(2 << 20, ByteBuffer.wrap(first), false);
        client.trim(2 << 20, 1 << 20, false);
        // After a trim the content is unspecified; only a new write defines it again.
        byte[] second = random(1 << 20, 8);
        client.write(2 << 20, ByteBuffer.wrap(second), false);
        client.flush();
        assertArrayEquals(second, read(client, 2 << 20, second.length));
    }

    @Test
    void manyThreadsPipelineOnOneConnection() throws Exception {
        int threads = 8;
        int blocks = 256;
        int blockSize = 16384;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                writes.add(
                        pool.submit(
                                () -> {
                                    for (int b = thread; b < blocks; b += threads) {
                                        client.write(
                                                (long) b * blockSize,
                                                ByteBuffer.wrap(random(blockSize, b)),
                                                false);
                                    }
                                    return null;
                                }));
            }
            for (Future<?> f : writes) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        for (int b = 0; b < blocks; b++) {
            assertArrayEquals(random(blockSize, b), read(client, (long) b * blockSize, blockSize));
        }
    }

    @Test
    void asyncRequestsCompleteOutOfOrderWithTheirOwnData() throws Exception {
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            writes.add(client.writeAsync(i * 8192L, ByteBuffer.wrap(random(8192, 100 + i)), false));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
        List<ByteBuffer> buffers = new ArrayList<>();
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (int i = 63; i >= 0; i--) {
            ByteBuffer b = ByteBuffer.allocateDirect(8192);
            buffers.add(b);
            reads.add(client.readAsync(i * 8192L, b));
        }
        CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get();
        for (int i = 0; i < 64; i++) {
            byte[] got = new byte[8192];
            buffers.get(i).flip().get(got);
            assertArrayEquals(random(8192, 100 + 63 - i), got);
        }
    }

    @Test
    void readBeyondTheEndFailsWithEinvalAndTheConnectionSurvives() throws Exception {
        NbdException e =
                assertThrows(
                        NbdException.class,
                        () -> client.read(EXPORT_SIZE - 512, ByteBuffer.allocate(1024)));
        assertEquals(NbdError.EINVAL, e.error());
        assertArrayEquals(new byte[512], read(client, EXPORT_SIZE - 512, 512));
    }

    @Test
    void writeBeyondTheEndFailsWithEnospc() throws Exception {
        NbdException e =
                assertThrows(
                        NbdException.class,
                        () -> client.write(EXPORT_SIZE, ByteBuffer.allocate(512), false));
        assertEquals(NbdError.ENOSPC, e.error());
        NbdException zero =
                assertThrows(
                        NbdException.class,
                        () -> client.writeZeroes(EXPORT_SIZE - 512, 1024, true, false));
        assertEquals(NbdError.ENOSPC, zero.error());
        client.flush();
    }
}
