package io.szpool.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** The real tools the data-path tests drive (nbdcopy, openssl), and what they compare. */
final class LocalTools {
    private LocalTools() {}

    /** Runs a command to its end; fails the test with its output unless it exits 0. */
    static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " timed out");
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + output);
    }

    static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static boolean onPath(String command) {
        for (String dir : System.getenv("PATH").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    /** Writes {@code mib} MiB of seeded random bytes to {@code file}. */
    static void writeRandom(Path file, int mib, long seed) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] block = new byte[1 << 20];
            Random random = new Random(seed);
            for (int i = 0; i < mib; i++) {
                random.nextBytes(block);
                f.write(block);
            }
        }
    }
}
