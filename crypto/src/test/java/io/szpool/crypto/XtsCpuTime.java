package io.szpool.crypto;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

/**
 * XTS throughput per second of this thread's CPU time, the clock {@code openssl speed} uses by
 * default: on a machine shared with other work, wall-clock figures (JMH's) measure the neighbours
 * too. Prints one line per case: {@code <op> <request bytes> <MB/s>}. Started by {@code bench/run}.
 */
public final class XtsCpuTime {

    private XtsCpuTime() {}

    public static void main(String[] args) {
        double warmupSeconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        double measureSeconds = args.length > 1 ? Double.parseDouble(args[1]) : 5;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Random random = new Random(42);
        byte[] key = new byte[XtsKey.LENGTH];
        random.nextBytes(key);
        try (XtsCipher cipher = new XtsCipher(XtsKey.of(key))) {
            for (int requestBytes : new int[] {65536, 1 << 20}) {
                byte[] in = new byte[requestBytes];
                byte[] out = new byte[requestBytes];
                random.nextBytes(in);
                for (String op : new String[] {"encrypt", "decrypt"}) {
                    boolean encrypt = op.equals("encrypt");
                    run(cipher, encrypt, in, out, warmupSeconds, threads);
                    double mbs = run(cipher, encrypt, in, out, measureSeconds, threads);
                    System.out.printf("%s %d %.0f%n", op, requestBytes, mbs);
                }
            }
        }
    }

    private static double run(
            XtsCipher cipher,
            boolean encrypt,
            byte[] in,
            byte[] out,
            double seconds,
            ThreadMXBean threads) {
        long start = threads.getCurrentThreadCpuTime();
        long deadline = start + (long) (seconds * 1e9);
        long bytes = 0;
        long now;
        do {
            for (int i = 0; i < 16; i++) {
                if (encrypt) {
                    cipher.encrypt(i, in, 0, out, 0, in.length);
                } else {
                    cipher.decrypt(i, in, 0, out, 0, in.length);
                }
                bytes += in.length;
            }
            now = threads.getCurrentThreadCpuTime();
        } while (now < deadline);
        return bytes / ((now - start) / 1e9) / 1e6;
    }
}
