package io.szpool.pool;

import static io.szpool.pool.PoolServices.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The pool's volume as a user mounts it where the kernel has no nbd module: {@code nbdfuse} turns
 * the NBD export into a file, {@code losetup} into a block device, {@code mkfs.ext4} and {@code
 * mount} into a file system. A tree copied in survives unmount, both services stopping, starting,
 * export and import, and mounting again (after a clean {@code e2fsck}). Needs root and FUSE.
 */
class PoolMountIT {
    private static final String NAME = "mounted";
    private PoolServices services;
    private Process nbdfuse;
    private Path fuseDir;
    private String loop;
    private Path mountPoint;

    @AfterEach
    void cleanUp() throws Exception {
        unmountAll();
        if (services != null) {
            services.close();
        }
    }

    @Test
    void anExt4TreeOnThePoolSurvivesARestartAndAnImport() throws Exception {
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")), "losetup and mount need root");
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "no FUSE (/dev/fuse) here");
        for (String tool :
                List.of("/usr/bin/nbdfuse", "/usr/sbin/losetup", "/usr/sbin/mkfs.ext4")) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of(tool)), tool + " is not installed");
        }
        services = new PoolServices("mount", "60s");
        services.start();
        services.create(NAME, 64 * MIB);
        Path tree = makeTree(services.dir.resolve("tree"));
        fuseDir = Files.createDirectories(services.dir.resolve("fuse"));
        mountPoint = Files.createDirectories(services.dir.resolve("mnt"));

        String device = attach();
        run("mkfs.ext4", "-q", "-F", device);
        run("mount", device, mountPoint.toString());
        run("cp", "-a", tree.toString(), mountPoint.resolve("tree").toString());
        unmountAll();

        services.stop();
        services.start();
        services.awaitServing(NAME);
        services.post("/pools/" + NAME + "/export", "", 200);
        services.post("/pools/" + NAME + "/import", "", 200);
        services.awaitServing(NAME);

        device = attach();
        run("e2fsck", "-f", "-n", device); // exit 0: the file system is clean
        run("mount", device, mountPoint.toString());
        assertSameTree(tree, mountPoint.resolve("tree"));
    }

    /** nbdfuse (waits until it serves: its pid file), then a loop device over its file. */
    private String attach() throws Exception {
        Path pidFile = services.dir.resolve("nbdfuse.pid");
        Files.deleteIfExists(pidFile);
        nbdfuse =
                new ProcessBuilder(
                                "nbdfuse",
                                "-P",
                                pidFile.toString(),
                                fuseDir.resolve("volume").toString(),
                                services.exportUri(NAME))
                        .redirectErrorStream(true)
                        .redirectOutput(services.dir.resolve("nbdfuse.log").toFile())
                        .start();
        PoolServices.awaitTrue(
                () -> Files.exists(pidFile) || !nbdfuse.isAlive(), "nbdfuse serves the volume");
        assertTrue(nbdfuse.isAlive(), Files.readString(services.dir.resolve("nbdfuse.log")));
        loop = run("losetup", "-f", "--show", fuseDir.resolve("volume").toString()).strip();
        // As `szpool mount` attaches it: the loop device in direct I/O over nbdfuse's file.
        run("losetup", "--direct-io=on", loop);
        return loop;
    }

    private void unmountAll() throws Exception {
        if (mountPoint != null) {
            quietly("umount", mountPoint.toString());
        }
        if (loop != null) {
            quietly("losetup", "-d", loop);
            loop = null;
        }
        if (nbdfuse != null) {
            quietly("fusermount3", "-u", fuseDir.toString());
            if (!nbdfuse.waitFor(30, TimeUnit.SECONDS)) {
                nbdfuse.destroyForcibly();
            }
            nbdfuse = null;
        }
    }

    private static Path makeTree(Path root) throws IOException {
        Random random = new Random(11);
        for (int d = 0; d < 4; d++) {
            Path dir = Files.createDirectories(root.resolve("dir-" + d).resolve("sub"));
            for (int f = 0; f < 25; f++) {
                byte[] data = new byte[random.nextInt(256 * 1024)];
                random.nextBytes(data);
                Files.write((f % 2 == 0 ? dir : dir.getParent()).resolve("file-" + f), data);
            }
        }
        byte[] large = new byte[(int) (24 * MIB)];
        random.nextBytes(large);
        Files.write(root.resolve("large.bin"), large);
        return root;
    }

    private static void assertSameTree(Path expected, Path actual) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(expected)) {
            walk.filter(Files::isRegularFile).forEach(files::add);
        }
        try (Stream<Path> walk = Files.walk(actual)) {
            assertEquals(files.size(), walk.filter(Files::isRegularFile).count(), "file count");
        }
        for (Path file : files) {
            Path copy = actual.resolve(expected.relativize(file).toString());
            assertEquals(-1, Files.mismatch(file, copy), "content of " + copy);
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), String.join(" ", command) + " hangs");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + output);
        return output;
    }

    private static void quietly(String... command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(60, TimeUnit.SECONDS);
        } catch (IOException ignored) {
            // Clean-up of what may not exist.
        }
    }
}
