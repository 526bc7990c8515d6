package io.szpool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.e2e.SzpoolRun.Result;
import io.szpool.testing.ProjectLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end story, driven only through the {@code szpool} command and what it starts:
 * up, mount, copy a tree, sync, fill past the capacity threshold and watch the pool grow by itself,
 * sync, down; then on a fresh data folder restore from the target with two chunk images damaged
 * (the restore imports the pool, rebuilding and repairing them), mount, and find the tree and its
 * checksums identical.
 */
class ScenarioIT {
    private static final long MIB = 1L << 20;
    private static final Path WORK = ProjectLayout.target().resolve("e2e-scenario");
    private static SzpoolRun hostA;
    private static SzpoolRun hostB;

    @AfterAll
    static void stopEverything() {
        for (SzpoolRun h : new SzpoolRun[] {hostA, hostB}) {
            if (h != null) {
                h.run("down", "--data", h.data().toString());
            }
        }
    }

    @Test
    void upMountCopySyncGrowSyncDownThenRestoreWithTwoDamagedChunks() throws Exception {
        deleteTree(WORK);
        Path target = WORK.resolve("remote");
        Path mnt = WORK.resolve("mnt");
        Files.createDirectories(mnt);
        int offset = SzpoolRun.freePortOffset(300);
        hostA = new SzpoolRun(WORK.resolve("host-a"), "scenario-host-a");
        String data = hostA.data().toString();

        Result up =
                hostA.ok(
                        "up",
                        "--data",
                        data,
                        "--chunk-size",
                        "64M",
                        "--width",
                        "6",
                        "--sync-target",
                        target.toString(),
                        "--port-offset",
                        "" + offset,
                        "--detach");
        assertTrue(up.out().contains("szpool is ready"), up.out());
        assertTrue(up.out().contains("created (6 x 64M, raidz2)"), up.out());
        assertTrue(up.out().contains("szpool mount szpool"), up.out());
        assertTrue(up.out().contains("passphrase:  " + data + "/passphrase"), up.out());
        assertEquals("rw-------", perms(hostA.data().resolve("passphrase")));

        // A second `up` on the same folder is refused in one line and leaves the stack alone.
        Result again = hostA.run("up", "--data", data, "--port-offset", "" + offset, "--detach");
        assertEquals(1, again.exit(), again.both());
        assertTrue(again.err().contains("still runs on " + data), again.err());
        assertEquals(1, again.err().lines().count(), again.err());
        assertEquals(
                "imported", hostA.ok("pool", "status", "szpool", "--field", "state").out().trim());

        String whyNot = SzpoolRun.whyNoMount();
        org.junit.jupiter.api.Assumptions.assumeTrue(
                whyNot == null, "the mount steps and what follows need them: " + whyNot);

        Result mount = hostA.ok("mount", "szpool", mnt.toString());
        assertTrue(mount.out().contains("new ext4 file system"), mount.out());
        Path tree = mnt.resolve("tree");
        Map<String, String> sums = copyTree(ProjectLayout.root().resolve("cli/src"), tree);
        assertTrue(sums.size() > 10, "a tree of some files");

        Result sync1 = hostA.ok("sync", "now", "szpool");
        assertTrue(sync1.out().contains("generation 1 on " + target), sync1.out());

        long sizeBefore = field("sizeBytes");
        fillPastThreshold(mnt, sizeBefore);
        long sizeAfter = sizeBefore;
        for (int i = 0; i < 180 && sizeAfter == sizeBefore; i++) {
            Thread.sleep(1000); // the capacity check runs every 30 s
            sizeAfter = field("sizeBytes");
        }
        assertEquals(2 * sizeBefore, sizeAfter, "the pool grew by one vdev by itself");
        assertTrue(
                hostA.ok("events", "--pool", text("poolId"))
                        .out()
                        .contains("\"trigger\":\"capacity-alert\""));
        Result resize = hostA.ok("resize", mnt.toString());
        assertTrue(resize.out().contains("file system grown"), resize.out());
        assertEquals(sums, checksums(tree), "the tree after the grow and resize");

        hostA.ok("umount", mnt.toString());
        hostA.ok("pool", "export", "szpool");
        // The growth itself starts a sync (sync-service follows PoolGrown), so the operator's run
        // is generation 2 or 3, and may first meet that run still going (exit 5, conflict).
        Result sync2 = hostA.run("sync", "now", "szpool");
        for (int i = 0; i < 60 && sync2.exit() == 5; i++) {
            Thread.sleep(2000);
            sync2 = hostA.run("sync", "now", "szpool");
        }
        assertEquals(0, sync2.exit(), sync2.out() + sync2.err());
        assertTrue(
                Pattern.compile("generation [23] on " + Pattern.quote(target.toString()))
                        .matcher(sync2.out())
                        .find(),
                sync2.out());
        Result down = hostA.ok("down", "--data", data);
        assertTrue(down.out().contains("szpool is down"), down.out());

        // Two chunks of the latest generation damaged on the target, in their first segment (the
        // target stores each chunk as 4 MiB segments); which chunks they are is found from the
        // bytes, since the target's names are opaque: segment 0 holds the chunk's own label.
        Map<String, String> original = new TreeMap<>();
        try (Stream<Path> chunks = Files.list(hostA.data().resolve("crypto-device/chunks"))) {
            for (Path c : chunks.toList()) {
                original.put(sha256(c, SEGMENT), c.getFileName().toString());
            }
        }
        assertEquals(12, original.size(), "two vdevs of six chunks");
        List<String> damaged = new ArrayList<>();
        for (Path image : latestGenerationImages(target)) {
            if (damaged.size() == 2) {
                break;
            }
            String chunk = original.get(sha256(image));
            if (chunk != null) {
                damage(image);
                damaged.add(chunk);
            }
        }
        assertEquals(2, damaged.size());

        hostB = new SzpoolRun(WORK.resolve("host-b"), "scenario-host-b");
        hostB.ok(
                "up",
                "--data",
                hostB.data().toString(),
                "--no-pool",
                "--no-sync",
                "--passphrase-file",
                hostA.data().resolve("passphrase").toString(),
                "--port-offset",
                "" + offset,
                "--detach");
        // The restore ends with the pool imported at host B's pool-service: the two damaged chunks
        // rebuilt or repaired from parity, the pool ready to mount.
        Result restore = hostB.ok("restore", "szpool", "--from", target.toString());
        assertTrue(restore.out().contains("imported ONLINE: 12 chunks, 10 intact"), restore.out());
        assertTrue(restore.out().contains("mount it: szpool mount szpool"), restore.out());
        assertEquals(1, restore.out().lines().count(), restore.out());
        for (String chunk : damaged) {
            // Named as rebuilt at import or repaired by the scrub.
            assertTrue(restore.out().contains(chunk), restore.out());
        }
        Result status = hostB.ok("pool", "status", "szpool", "--field", "state");
        assertEquals("imported", status.out().trim());
        Result restoredEvents = hostB.ok("events", "--pool", text("poolId"));
        assertTrue(
                restoredEvents.out().contains("io.szpool.restore.completed.v1"),
                restoredEvents.out());

        // Mounted on host B: the file system host A wrote, and the tree identical to the byte.
        Path mntB = WORK.resolve("mnt-b");
        Files.createDirectories(mntB);
        Result mountB = hostB.ok("mount", "szpool", mntB.toString());
        assertTrue(!mountB.out().contains("new ext4 file system"), mountB.out());
        assertEquals(sums, checksums(mntB.resolve("tree")), "the tree restored on host B");
        hostB.ok("umount", mntB.toString());
    }

    private static String text(String name) {
        return hostA.ok("pool", "status", "szpool", "--field", name).out().trim();
    }

    private static long field(String name) {
        return Long.parseLong(text(name));
    }

    /** Writes random files until the pool is over 85 % allocated or the file system is full. */
    private static void fillPastThreshold(Path mnt, long poolSize) throws Exception {
        Random random = new Random(42);
        byte[] block = new byte[(int) MIB];
        for (int f = 0; ; f++) {
            Path file = mnt.resolve("fill-" + f);
            try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
                for (int m = 0; m < 16; m++) {
                    random.nextBytes(block);
                    out.write(block);
                }
                out.getFD().sync();
            } catch (IOException full) {
                return;
            }
            long allocated = field("allocatedBytes");
            if (allocated * 100 > poolSize * 85) {
                return;
            }
        }
    }

    private static List<Path> latestGenerationImages(Path target) throws IOException {
        Path latest;
        try (Stream<Path> generations = Files.list(target)) {
            latest =
                    generations
                            .filter(Files::isDirectory)
                            .max(
                                    (a, b) -> {
                                        try {
                                            return Files.getLastModifiedTime(a)
                                                    .compareTo(Files.getLastModifiedTime(b));
                                        } catch (IOException e) {
                                            throw new IllegalStateException(e);
                                        }
                                    })
                            .orElseThrow();
        }
        try (Stream<Path> files = Files.list(latest)) {
            return files.filter(f -> f.toFile().length() % 4096 == 0).sorted().toList();
        }
    }

    /** Same size, other bytes: 64 KiB of noise 1 MiB in. */
    private static void damage(Path image) throws IOException {
        byte[] noise = new byte[64 * 1024];
        new Random(7).nextBytes(noise);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(MIB);
            f.write(noise);
        }
    }

    private static Map<String, String> copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path dest = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(f, dest);
                }
            }
        }
        return checksums(to);
    }

    static Map<String, String> checksums(Path root) throws IOException {
        Map<String, String> sums = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                sums.put(root.relativize(f).toString(), sha256(f));
            }
        }
        return sums;
    }

    /** sync-service's segment size on the target. */
    static final long SEGMENT = 4L << 20;

    static String sha256(Path file) throws IOException {
        return sha256(file, Long.MAX_VALUE);
    }

    /** SHA-256 of the first {@code limit} bytes of a file. */
    static String sha256(Path file, long limit) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            long left = limit;
            for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) {
                md.update(buf, 0, n);
                left -= n;
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String perms(Path file) throws IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(file));
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
