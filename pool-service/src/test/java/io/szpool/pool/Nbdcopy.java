package io.szpool.pool;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** libnbd's {@code nbdcopy}, the way users move data in and out of a pool's volume. */
final class Nbdcopy {
    private static final Path NBDCOPY = Path.of("/usr/bin/nbdcopy");

    /** What nbdcopy said. */
    record Result(int exitCode, String output) {}

    private Nbdcopy() {}

    static void assumeInstalled() {
        Assumptions.assumeTrue(
                Files.isExecutable(NBDCOPY), "nbdcopy (libnbd-bin) is not installed here");
    }

    static Result copy(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(NBDCOPY.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("nbdcopy did not finish: " + command);
        }
        return new Result(p.exitValue(), new String(output));
    }

    /** A file of {@code bytes} seeded random bytes. */
    static Path randomFile(Path file, long bytes, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] block = new byte[4 << 20];
        try (FileChannel out =
                FileChannel.open(
                        file,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE)) {
            for (long done = 0; done < bytes; done += block.length) {
                random.nextBytes(block);
                out.write(ByteBuffer.wrap(block, 0, (int) Math.min(block.length, bytes - done)));
            }
        }
        return file;
    }

    /** The first offset where the first {@code length} bytes of two files differ, or -1. */
    static long mismatch(Path a, Path b, long length) throws IOException {
        try (RandomAccessFile fa = new RandomAccessFile(a.toFile(), "r");
                RandomAccessFile fb = new RandomAccessFile(b.toFile(), "r")) {
            if (fa.length() < length || fb.length() < length) {
                return Math.min(fa.length(), fb.length());
            }
            byte[] ba = new byte[1 << 20];
            byte[] bb = new byte[1 << 20];
            for (long at = 0; at < length; at += ba.length) {
                int n = (int) Math.min(ba.length, length - at);
                fa.readFully(ba, 0, n);
                fb.readFully(bb, 0, n);
                int i = java.util.Arrays.mismatch(ba, 0, n, bb, 0, n);
                if (i >= 0) {
                    return at + i;
                }
            }
            return -1;
        }
    }
}
