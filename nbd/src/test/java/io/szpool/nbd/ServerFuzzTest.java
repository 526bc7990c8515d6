package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random garbage, truncated handshakes and mangled requests against the server, bounded in count
 * and time; afterwards the server must have dropped every bad connection and serve a good client.
 */
class ServerFuzzTest {
    private static final int ROUNDS = 400;
    private static final long BUDGET_NANOS = 20_000_000_000L;

    @Test
    void survivesGarbageAndStillServes() throws Exception {
        NbdServer server = new NbdServer();
        try {
            server.addExport("disk", new MemoryBlockDevice(8L << 20));
            int port = server.listen(ListenerConfig.loopback(0)).port();
            Random random = new Random(20261126L);
            long start = System.nanoTime();
            for (int round = 0; round < ROUNDS; round++) {
                if (System.nanoTime() - start > BUDGET_NANOS) {
                    break; // bounded in time too; the rounds done so far still count
                }
                attack(port, script(random), random);
            }
            ServerBadInputTest.eventually(
                    "bad connections dropped", () -> server.connectionCount() == 0);
            ServerBadInputTest.eventually(
                    "connection threads gone", () -> ServerBadInputTest.connectionThreads() == 0);
            assertTrue(server.metrics("disk").requests() > 0, "fuzzing reached transmission");
            ServerBadInputTest.assertServes(port, "disk");
        } finally {
            server.close();
        }
    }

    /** Sends the bytes, reads a little of what comes back, and hangs up. */
    private static void attack(int port, byte[] bytes, Random random) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(20);
            try {
                socket.getOutputStream().write(bytes);
                if (random.nextBoolean()) {
                    InputStream in = socket.getInputStream();
                    in.read(new byte[4096]);
                }
            } catch (IOException expected) {
                // The server may hang up on us at any point; that is the point.
            }
        }
    }

    /** One of several shapes of bad input, with random content and random truncation. */
    private static byte[] script(Random random) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        switch (random.nextInt(5)) {
            case 0 -> out.write(randomBytes(random, random.nextInt(2048)));
            case 1 -> {
                out.writeInt(random.nextInt(4));
                out.write(randomBytes(random, random.nextInt(512)));
            }
            case 2 -> {
                out.writeInt(Protocol.FLAG_C_FIXED_NEWSTYLE | Protocol.FLAG_C_NO_ZEROES);
                for (int i = random.nextInt(6); i >= 0; i--) {
                    out.writeLong(random.nextInt(8) == 0 ? random.nextLong() : Protocol.IHAVEOPT);
                    out.writeInt(random.nextInt(12));
                    int length = random.nextInt(8) == 0 ? random.nextInt() : random.nextInt(64);
                    out.writeInt(length);
                    out.write(randomBytes(random, random.nextInt(64)));
                }
            }
            case 3 -> {
                out.writeInt(Protocol.FLAG_C_FIXED_NEWSTYLE);
                out.writeLong(Protocol.IHAVEOPT);
                out.writeInt(Protocol.OPT_GO);
                byte[] go = RawClient.goData(random.nextBoolean() ? "disk" : "");
                out.writeInt(go.length);
                out.write(go);
                for (int i = random.nextInt(20); i >= 0; i--) {
                    mangledRequest(out, random);
                }
            }
            default -> {
                out.writeInt(Protocol.FLAG_C_FIXED_NEWSTYLE | Protocol.FLAG_C_NO_ZEROES);
                out.writeLong(Protocol.IHAVEOPT);
                out.writeInt(Protocol.OPT_EXPORT_NAME);
                out.writeInt(4);
                out.writeBytes("disk");
                for (int i = random.nextInt(20); i >= 0; i--) {
                    mangledRequest(out, random);
                }
            }
        }
        byte[] all = bytes.toByteArray();
        int cut = random.nextInt(4) == 0 ? random.nextInt(all.length + 1) : all.length;
        return java.util.Arrays.copyOf(all, cut);
    }

    private static void mangledRequest(DataOutputStream out, Random random) throws IOException {
        out.writeInt(random.nextInt(16) == 0 ? random.nextInt() : Protocol.REQUEST_MAGIC);
        out.writeShort(random.nextInt(4) == 0 ? random.nextInt() : 0);
        out.writeShort(random.nextInt(9));
        out.writeLong(random.nextLong());
        out.writeLong(random.nextBoolean() ? random.nextLong() : random.nextInt(8 << 20));
        int length = random.nextBoolean() ? random.nextInt() : random.nextInt(1 << 16);
        out.writeInt(length);
        out.write(randomBytes(random, random.nextInt(4096)));
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
