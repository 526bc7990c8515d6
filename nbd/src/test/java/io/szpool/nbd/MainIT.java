package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar, run the way a user runs it: {@code java -jar szpool-nbd.jar serve ...}. */
class MainIT {
    @TempDir Path dir;

    @Test
    void servesFilesUntilStopped() throws Exception {
        Path jar = Path.of(System.getProperty("nbd.jar", "target/szpool-nbd.jar"));
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        FileBlockDevice.create(a, 8L << 20).close();
        FileBlockDevice.create(b, 4L << 20).close();
        int port = Tools.freePort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process =
                new ProcessBuilder(
                                java,
                                "-jar",
                                jar.toString(),
                                "serve",
                                "--port",
                                String.valueOf(port),
                                "--export",
                                "alpha=" + a,
                                "--export",
                                "beta=" + b)
                        .redirectErrorStream(true)
                        .start();
        try {
            BufferedReader out =
                    new BufferedReader(
                            new InputStreamReader(
                                    process.getInputStream(), StandardCharsets.UTF_8));
            String banner = out.readLine();
            assertTrue(banner != null && banner.contains("127.0.0.1:" + port), banner);

            assertEquals(List.of("alpha", "beta"), sorted(NbdClient.list("127.0.0.1", port)));
            try (NbdClient client = NbdClient.connect("127.0.0.1", port, "beta")) {
                assertEquals(4L << 20, client.size());
                client.write(4096, ByteBuffer.wrap("written via nbd".getBytes()), true);
            }
            byte[] onDisk = new byte[15];
            System.arraycopy(Files.readAllBytes(b), 4096, onDisk, 0, 15);
            assertArrayEquals("written via nbd".getBytes(), onDisk);

            if (Tools.onPath("nbdinfo")) {
                String info = Tools.check("nbdinfo", "nbd://127.0.0.1:" + port);
                assertTrue(info.contains("export-size: " + (8L << 20)), "default export: " + info);
            }
        } finally {
            process.destroy();
            assertTrue(process.waitFor(20, TimeUnit.SECONDS), "server did not stop on SIGTERM");
        }
    }

    private static List<String> sorted(List<String> names) {
        return names.stream().sorted().toList();
    }
}
