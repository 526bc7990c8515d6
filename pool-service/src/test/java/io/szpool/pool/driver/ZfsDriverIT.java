package io.szpool.pool.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.raidz.Health;
import io.szpool.raidz.ScrubResult;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The zfs driver against the real OpenZFS: create, grow, status, scrub, export, import from a
 * folder (devices shuffled and renamed), destroy. Sparse files stand in for the dm-crypt devices
 * (zpool takes both). Runs where {@code zpool} and the ZFS kernel module exist (the platform tests'
 * qemu guest, issue #9); skipped elsewhere.
 */
class ZfsDriverIT {

    @Test
    void createsGrowsScrubsExportsAndImportsARealPool() throws Exception {
        Path zpool = Path.of("/usr/sbin/zpool");
        Assumptions.assumeTrue(
                Files.isExecutable(zpool) || Files.isExecutable(Path.of("/sbin/zpool")),
                "zpool (OpenZFS) is not installed here");
        Assumptions.assumeTrue(
                Files.exists(Path.of("/dev/zfs")), "no ZFS kernel module here (/dev/zfs absent)");
        Path dir = Files.createTempDirectory("szpool-zfs-it");
        String name = "szp" + UUID.randomUUID().toString().substring(0, 8);
        ZfsDriver zfs = new ZfsDriver(new CommandRunner(Duration.ofMinutes(5)), "zpool", dir);
        List<String> first = devices(dir, "a", 6);
        LivePool pool = zfs.create(name, List.of(first));
        try {
            assertEquals(Health.ONLINE, pool.health());
            assertEquals(1, pool.vdevCount());
            assertEquals(6, pool.status().size());
            assertTrue(pool.status().get(0).device().startsWith(dir.toString()));
            long size = pool.size();
            pool.addVdev(devices(dir, "b", 6));
            assertEquals(2, pool.vdevCount());
            assertTrue(pool.size() > size, "grown: " + pool.size() + " > " + size);
            pool.flush();
            ScrubResult scrub = pool.scrub();
            assertEquals(0, scrub.bytesUnrecoverable());
            assertEquals("finished", pool.scan().orElseThrow().state());

            pool.export();
            assertFalse(zfs.imported(name));
            // Shuffle and rename the device files: zpool finds them by their labels.
            Path moved = Files.createDirectory(dir.resolve("moved"));
            List<Path> files = new ArrayList<>();
            try (var s = Files.list(dir)) {
                s.filter(Files::isRegularFile).forEach(files::add);
            }
            Collections.shuffle(files);
            List<String> renamed = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                Path to = moved.resolve("renamed-" + i);
                Files.move(files.get(i), to);
                renamed.add(to.toString());
            }
            pool = zfs.assemble(name, renamed);
            assertEquals(Health.ONLINE, pool.health());
            assertEquals(2, pool.vdevCount());
            assertTrue(pool.status().get(0).device().contains("renamed-"));
            // Attaching to an imported pool runs no import.
            assertEquals(Health.ONLINE, zfs.assemble(name, renamed).health());
        } finally {
            pool.destroy();
        }
        assertFalse(zfs.imported(name));
    }

    private static List<String> devices(Path dir, String prefix, int count) throws Exception {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Path file = dir.resolve(prefix + i);
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(128L << 20); // zpool's minimum device is 64 MiB
            }
            paths.add(file.toString());
        }
        return paths;
    }
}
