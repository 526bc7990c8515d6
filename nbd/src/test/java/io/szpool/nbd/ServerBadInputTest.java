package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the server does with clients that break the protocol or ask for too much. */
class ServerBadInputTest {
    private static final long SIZE = 4L << 20;

    private NbdServer server;
    private int port;

    @BeforeEach
    void start() throws Exception {
        server = new NbdServer();
        server.addExport("disk", new MemoryBlockDevice(SIZE));
        server.addExport("ro", new ReadOnlyView(new MemoryBlockDevice(SIZE)));
        port = server.listen(ListenerConfig.loopback(0)).port();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** Polls a condition about server state; the deadline only stops a hung test. */
    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("never happened: " + what);
            }
            Thread.sleep(20);
        }
    }

    static long connectionThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("nbd-conn-"))
                .count();
    }

    /** A good client still gets its data through. */
    static void assertServes(int port, String export) throws Exception {
        try (NbdClient client = NbdClient.connect("127.0.0.1", port, export)) {
            byte[] data = "still serving".getBytes(StandardCharsets.UTF_8);
            client.write(512, ByteBuffer.wrap(data), false);
            ByteBuffer back = ByteBuffer.allocate(data.length);
            client.read(512, back);
            assertArrayEquals(data, back.array());
        }
    }

    @Test
    void unknownOptionGetsErrUnsupAndNegotiationGoesOn() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.option(99, new byte[] {1, 2, 3});
            RawClient.OptionReply reply = c.optionReply();
            assertEquals(99, reply.option());
            assertEquals(Protocol.REP_ERR_UNSUP, reply.type());
            assertEquals(SIZE, c.go("disk"));
        }
    }

    @Test
    void malformedOptionsGetErrInvalid() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.option(Protocol.OPT_LIST, new byte[] {0});
            assertEquals(Protocol.REP_ERR_INVALID, c.optionReply().type());
            c.option(Protocol.OPT_GO, new byte[] {0, 0, 0, 9, 1});
            assertEquals(Protocol.REP_ERR_INVALID, c.optionReply().type());
            c.option(Protocol.OPT_STARTTLS, new byte[0]);
            assertEquals(Protocol.REP_ERR_UNSUP, c.optionReply().type(), "no TLS configured");
            c.option(Protocol.OPT_GO, RawClient.goData("nonexistent"));
            assertEquals(Protocol.REP_ERR_UNKNOWN, c.optionReply().type());
            assertEquals(SIZE, c.go("disk"));
        }
    }

    @Test
    void exportNameForAnUnknownExportDropsTheConnection() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.option(Protocol.OPT_EXPORT_NAME, "nonexistent".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer());
        }
        assertServes(port, "disk");
    }

    @Test
    void unknownClientFlagsDropTheConnection() throws Exception {
        try (RawClient c = new RawClient(port)) {
            c.in.readLong();
            c.in.readLong();
            c.in.readUnsignedShort();
            c.out.writeInt(0x80);
            c.out.flush();
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void unknownCommandsAndFlagsGetEinvalAndTransmissionGoesOn() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.go("disk");
            c.request(0, 42, 1, 0, 512);
            assertEquals(new RawClient.SimpleReply(NbdError.EINVAL.code(), 1), c.simpleReply());
            c.request(0x8000, Protocol.CMD_READ, 2, 0, 512);
            assertEquals(new RawClient.SimpleReply(NbdError.EINVAL.code(), 2), c.simpleReply());
            c.request(Protocol.CMD_FLAG_NO_HOLE, Protocol.CMD_WRITE, 3, 0, 4);
            c.out.write(new byte[4]);
            c.out.flush();
            assertEquals(NbdError.EINVAL.code(), c.simpleReply().error(), "NO_HOLE on WRITE");
            c.request(0, Protocol.CMD_READ, 4, 0, 512);
            assertEquals(new RawClient.SimpleReply(0, 4), c.simpleReply());
            c.in.readFully(new byte[512]);
        }
    }

    @Test
    void requestsBeyondTheEndGetEinvalOrEnospc() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.go("disk");
            c.request(0, Protocol.CMD_READ, 1, SIZE - 512, 1024);
            assertEquals(NbdError.EINVAL.code(), c.simpleReply().error());
            c.request(0, Protocol.CMD_WRITE, 2, SIZE, 512);
            c.out.write(new byte[512]);
            c.out.flush();
            assertEquals(NbdError.ENOSPC.code(), c.simpleReply().error());
            c.request(0, Protocol.CMD_WRITE_ZEROES, 3, SIZE - 1, 2);
            assertEquals(NbdError.ENOSPC.code(), c.simpleReply().error());
            c.request(0, Protocol.CMD_TRIM, 4, Long.MAX_VALUE, 1);
            assertEquals(NbdError.EINVAL.code(), c.simpleReply().error());
            c.request(0, Protocol.CMD_READ, 5, -512, 512);
            assertEquals(NbdError.EINVAL.code(), c.simpleReply().error(), "offset >= 2^63");
            c.request(0, Protocol.CMD_FLUSH, 6, 0, 0);
            assertEquals(new RawClient.SimpleReply(0, 6), c.simpleReply());
        }
    }

    @Test
    void writesToAReadOnlyExportGetEperm() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.go("ro");
            c.request(0, Protocol.CMD_WRITE, 1, 0, 512);
            c.out.write(new byte[512]);
            c.out.flush();
            assertEquals(NbdError.EPERM.code(), c.simpleReply().error());
            c.request(0, Protocol.CMD_WRITE_ZEROES, 2, 0, 512);
            assertEquals(NbdError.EPERM.code(), c.simpleReply().error());
        }
    }

    @Test
    void oversizedReadGetsEinvalAndTheConnectionSurvives() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.go("disk");
            c.request(0, Protocol.CMD_READ, 1, 0, 0xffffffffL);
            assertEquals(NbdError.EINVAL.code(), c.simpleReply().error());
            c.request(0, Protocol.CMD_READ, 2, 0, 8);
            assertEquals(0, c.simpleReply().error());
            c.in.readFully(new byte[8]);
        }
    }

    @Test
    void oversizedWriteIsRefusedWithoutReadingItsPayload() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.go("disk");
            c.request(0, Protocol.CMD_WRITE, 7, 0, 0xfffffff0L);
            assertEquals(new RawClient.SimpleReply(NbdError.EINVAL.code(), 7), c.simpleReply());
            assertTrue(c.closedByServer(), "a 4 GiB payload cannot be skipped; server hangs up");
        }
        assertServes(port, "disk");
    }

    @Test
    void badRequestMagicDropsTheConnection() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.go("disk");
            c.out.write(new byte[28]);
            c.out.flush();
            assertTrue(c.closedByServer());
        }
        assertServes(port, "disk");
    }

    @Test
    void truncatedFramesAndMidRequestDisconnectsLeakNoThreads() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (RawClient c = new RawClient(port).greet()) {
                c.go("disk");
                if (i % 2 == 0) {
                    c.out.write(new byte[] {0x25, 0x60, (byte) 0x95, 0x13, 0, 0, 0});
                } else {
                    c.request(0, Protocol.CMD_WRITE, i, 0, 1 << 20);
                    c.out.write(new byte[100_000]);
                }
                c.out.flush();
            }
        }
        eventually("all connections closed", () -> server.connectionCount() == 0);
        eventually("no connection threads left", () -> connectionThreads() == 0);
        assertServes(port, "disk");
        assertEquals(13, server.metrics("disk").bytesWritten(), "only the good write landed");
    }

    @Test
    void disconnectAfterPipelinedRequestsAnswersThemFirst() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.go("disk");
            List<Long> handles = new ArrayList<>();
            for (long h = 1; h <= 16; h++) {
                c.request(0, Protocol.CMD_WRITE, h, h * 4096, 4096);
                c.out.write(new byte[4096]);
                handles.add(h);
            }
            c.request(0, Protocol.CMD_DISC, 99, 0, 0);
            List<Long> replied = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                RawClient.SimpleReply reply = c.simpleReply();
                assertEquals(0, reply.error());
                replied.add(reply.handle());
            }
            replied.sort(null);
            assertEquals(handles, replied);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void structuredRepliesCarryDataAndErrors() throws Exception {
        try (RawClient c = new RawClient(port).greet()) {
            c.option(Protocol.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Protocol.REP_ACK, c.optionReply().type());
            c.go("disk");
            c.request(0, Protocol.CMD_READ, 5, 1024, 16);
            assertEquals(Protocol.STRUCTURED_REPLY_MAGIC, c.in.readInt());
            assertEquals(Protocol.REPLY_FLAG_DONE, c.in.readUnsignedShort());
            assertEquals(Protocol.REPLY_TYPE_OFFSET_DATA, c.in.readUnsignedShort());
            assertEquals(5, c.in.readLong());
            assertEquals(8 + 16, c.in.readInt());
            assertEquals(1024, c.in.readLong());
            c.in.readFully(new byte[16]);

            c.request(0, Protocol.CMD_READ, 6, SIZE, 16);
            assertEquals(Protocol.STRUCTURED_REPLY_MAGIC, c.in.readInt());
            assertEquals(Protocol.REPLY_FLAG_DONE, c.in.readUnsignedShort());
            assertEquals(Protocol.REPLY_TYPE_ERROR, c.in.readUnsignedShort());
            assertEquals(6, c.in.readLong());
            int length = c.in.readInt();
            assertEquals(NbdError.EINVAL.code(), c.in.readInt());
            int messageLength = c.in.readUnsignedShort();
            assertEquals(length - 6, messageLength);
            c.in.readFully(new byte[messageLength]);
        }
    }

    @Test
    void allowListHidesAndRefusesOtherExports() throws Exception {
        int restricted = server.listen(ListenerConfig.loopback(0).allowing(Set.of("ro"))).port();
        assertEquals(List.of("ro"), NbdClient.list("127.0.0.1", restricted));
        try (RawClient c = new RawClient(restricted).greet()) {
            c.option(Protocol.OPT_GO, RawClient.goData("disk"));
            assertEquals(Protocol.REP_ERR_UNKNOWN, c.optionReply().type());
        }
        try (NbdClient ro = NbdClient.connect("127.0.0.1", restricted, "ro")) {
            assertTrue(ro.readOnly());
        }
    }

    @Test
    void clientsThatNeverFinishTheHandshakeAreDropped() throws Exception {
        NbdServer impatient =
                new NbdServer(
                        NbdServer.Settings.defaults().withHandshakeTimeout(Duration.ofMillis(300)));
        try {
            impatient.addExport("disk", new MemoryBlockDevice(SIZE));
            int p = impatient.listen(ListenerConfig.loopback(0)).port();
            try (RawClient c = new RawClient(p)) {
                assertTrue(c.closedByServer());
            }
            eventually("silent client dropped", () -> impatient.connectionCount() == 0);
        } finally {
            impatient.close();
        }
    }

    @Test
    void metricsCountRequestsBytesAndErrors() throws Exception {
        assertServes(port, "disk");
        try (RawClient c = new RawClient(port).greet()) {
            c.go("disk");
            c.request(0, Protocol.CMD_READ, 1, SIZE, 1);
            c.simpleReply();
        }
        ExportMetrics.Snapshot m = server.metrics("disk");
        assertEquals(13, m.bytesWritten());
        assertEquals(13, m.bytesRead());
        assertEquals(1, m.errors());
        assertEquals(2, m.requests(ExportMetrics.Command.READ));
        assertEquals(1, m.requests(ExportMetrics.Command.WRITE));
        assertEquals(3, java.util.Arrays.stream(m.latencyBuckets()).sum());
        assertTrue(m.latencyMaxNanos() > 0);
    }

    /** Wraps a device so that it reports itself read-only. */
    private record ReadOnlyView(BlockDevice inner) implements BlockDevice {
        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public boolean readOnly() {
            return true;
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws java.io.IOException {
            inner.read(offset, dst);
        }

        @Override
        public void write(long offset, ByteBuffer src, boolean fua) {
            throw new AssertionError("server let a write through to a read-only device");
        }

        @Override
        public void flush() {}

        @Override
        public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) {
            throw new AssertionError("server let a zero through to a read-only device");
        }

        @Override
        public void close() {}
    }
}
