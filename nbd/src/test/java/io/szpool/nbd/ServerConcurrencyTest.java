package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Requests of one connection run in parallel on a slow device, and several clients share one. */
class ServerConcurrencyTest {

    @Test
    void aSlowDeviceGetsPipelinedRequestsInParallel() throws Exception {
        SlowDevice device = new SlowDevice(new MemoryBlockDevice(1 << 20));
        try (NbdServer server = new NbdServer()) {
            server.addExport("slow", device);
            int port = server.listen(ListenerConfig.loopback(0)).port();
            try (NbdClient client = NbdClient.connect("127.0.0.1", port, "slow")) {
                for (int round = 0; round < 4; round++) {
                    List<CompletableFuture<Void>> reads = new ArrayList<>();
                    for (int i = 0; i < 16; i++) {
                        reads.add(client.readAsync(i * 4096L, ByteBuffer.allocate(4096)));
                    }
                    CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get();
                }
            }
        }
        assertTrue(
                device.mostAtOnce.get() > 1,
                "requests ran one at a time: " + device.mostAtOnce.get());
    }

    @Test
    void severalConnectionsToOneExportSeeEachOthersWrites() throws Exception {
        try (NbdServer server = new NbdServer()) {
            server.addExport("shared", new MemoryBlockDevice(1 << 20));
            int port = server.listen(ListenerConfig.loopback(0)).port();
            try (NbdClient a = NbdClient.connect("127.0.0.1", port, "shared");
                    NbdClient b = NbdClient.connect("127.0.0.1", port, "shared")) {
                assertTrue(a.sharedCache(), "multi-conn announced");
                byte[] data = NbdClientContract.random(8192, 11);
                a.write(0, ByteBuffer.wrap(data), false);
                a.flush();
                assertArrayEquals(data, NbdClientContract.read(b, 0, data.length));
                assertEquals(2, server.metrics("shared").connections());
            }
        }
    }

    @Test
    void removingAnExportDropsItsClientsButNotOthers() throws Exception {
        try (NbdServer server = new NbdServer()) {
            MemoryBlockDevice gone = new MemoryBlockDevice(1 << 20);
            server.addExport("gone", gone);
            server.addExport("stays", new MemoryBlockDevice(1 << 20));
            int port = server.listen(ListenerConfig.loopback(0)).port();
            try (NbdClient leaving = NbdClient.connect("127.0.0.1", port, "gone");
                    NbdClient staying = NbdClient.connect("127.0.0.1", port, "stays")) {
                assertEquals(gone, server.removeExport("gone"));
                assertThrows(
                        java.io.IOException.class, () -> leaving.read(0, ByteBuffer.allocate(512)));
                assertEquals(List.of("stays"), NbdClient.list("127.0.0.1", port));
                assertArrayEquals(new byte[512], NbdClientContract.read(staying, 0, 512));
            }
        }
    }

    /** Takes a few milliseconds per request and records how many ran at the same time. */
    private static final class SlowDevice implements BlockDevice {
        final BlockDevice inner;
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();

        SlowDevice(BlockDevice inner) {
            this.inner = inner;
        }

        private void slowly() {
            int now = running.incrementAndGet();
            mostAtOnce.accumulateAndGet(now, Math::max);
            try {
                Thread.sleep(3);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public boolean readOnly() {
            return false;
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws java.io.IOException {
            slowly();
            inner.read(offset, dst);
        }

        @Override
        public void write(long offset, ByteBuffer src, boolean fua) throws java.io.IOException {
            slowly();
            inner.write(offset, src, fua);
        }

        @Override
        public void flush() {}

        @Override
        public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
                throws java.io.IOException {
            inner.writeZeroes(offset, length, mayPunchHole, fua);
        }

        @Override
        public void close() {}
    }
}
