package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our server against NBD clients no one here wrote: nbdinfo, nbdcopy, qemu-img, nbdfuse. */
class ToolsInteropIT {
    private static final long DISK_SIZE = 256L << 20;

    @TempDir Path dir;
    private NbdServer server;
    private FileBlockDevice disk;
    private FileBlockDevice small;
    private FileBlockDevice readOnly;
    private String base;

    @BeforeEach
    void startServer() throws Exception {
        disk = FileBlockDevice.create(dir.resolve("disk.img"), DISK_SIZE);
        small = FileBlockDevice.create(dir.resolve("small.img"), 16L << 20);
        FileBlockDevice.create(dir.resolve("ro.img"), 1L << 20).close();
        readOnly = FileBlockDevice.open(dir.resolve("ro.img"), true);
        server = new NbdServer();
        server.addExport("disk", disk);
        server.addExport("small", small);
        server.addExport("ro", readOnly);
        base = "nbd://127.0.0.1:" + server.listen(ListenerConfig.loopback(0)).port();
    }

    @AfterEach
    void stopServer() throws Exception {
        server.close();
        disk.close();
        small.close();
        readOnly.close();
    }

    @Test
    void nbdinfoListsExportsWithSizesAndFlags() throws Exception {
        Tools.assumeOnPath("nbdinfo");
        String list = Tools.check("nbdinfo", "--list", "--json", base);
        assertTrue(list.contains("\"export-name\": \"disk\""), list);
        assertTrue(list.contains("\"export-name\": \"small\""), list);
        assertTrue(list.contains("\"export-size\": " + DISK_SIZE), list);
        assertTrue(list.contains("\"export-size\": " + (16L << 20)), list);

        String info = Tools.check("nbdinfo", "--json", base + "/disk");
        assertTrue(info.contains("\"structured\": true"), info);
        assertTrue(info.contains("\"is_read_only\": false"), info);
        assertTrue(info.contains("\"can_flush\": true"), info);
        assertTrue(info.contains("\"can_fua\": true"), info);
        assertTrue(info.contains("\"can_trim\": true"), info);
        assertTrue(info.contains("\"can_zero\": true"), info);
        assertTrue(info.contains("\"can_multi_conn\": true"), info);
        assertTrue(info.contains("\"block_size_maximum\": 33554432"), info);

        String ro = Tools.check("nbdinfo", "--json", base + "/ro");
        assertTrue(ro.contains("\"is_read_only\": true"), ro);
        assertTrue(ro.contains("\"can_flush\": false"), ro);

        Tools.Result missing = Tools.run("nbdinfo", base + "/nonexistent");
        assertTrue(missing.exitCode() != 0, "unknown export must be refused");
    }

    @Test
    void nbdcopyWrites256MiBOfRandomDataAndReadsItBackIdentical() throws Exception {
        Tools.assumeOnPath("nbdcopy");
        Path source = randomFile(dir.resolve("random.bin"), DISK_SIZE);
        Tools.check("nbdcopy", "--flush", source.toString(), base + "/disk");
        assertEquals(-1, Files.mismatch(source, disk.path()), "export file differs from source");

        Path back = dir.resolve("back.bin");
        Tools.check("nbdcopy", base + "/disk", back.toString());
        assertEquals(-1, Files.mismatch(source, back), "data read back differs");
        assertTrue(server.metrics("disk").bytesWritten() >= DISK_SIZE);
    }

    @Test
    void qemuImgConvertReadsTheExport() throws Exception {
        Tools.assumeOnPath("qemu-img");
        Path source = randomFile(dir.resolve("random.bin"), 16L << 20);
        try (BlockDevice src = FileBlockDevice.open(source, true)) {
            java.nio.ByteBuffer all = java.nio.ByteBuffer.allocateDirect(16 << 20);
            src.read(0, all);
            small.write(0, all.flip(), true);
        }
        Path copy = dir.resolve("qemu-copy.raw");
        Tools.check(
                "qemu-img", "convert", "-f", "raw", "-O", "raw", base + "/small", copy.toString());
        assertEquals(-1, Files.mismatch(source, copy));
    }

    @Test
    void ext4OnNbdfuseAndLoopSurvivesUnmountAndRemount() throws Exception {
        Tools.assumeOnPath("nbdfuse", "losetup", "mkfs.ext4", "mount", "umount", "fusermount3");
        assumeTrue(Tools.isRoot(), "mounting needs root; skipping");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse; skipping");
        assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no loop devices; skipping");

        Path fuseDir = Files.createDirectory(dir.resolve("fuse"));
        Path mountDir = Files.createDirectory(dir.resolve("mnt"));
        Path pidFile = dir.resolve("nbdfuse.pid");
        Process nbdfuse =
                new ProcessBuilder(
                                "nbdfuse",
                                "-P",
                                pidFile.toString(),
                                fuseDir.toString(),
                                base + "/disk")
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("nbdfuse.log").toFile())
                        .start();
        String loop = null;
        boolean mounted = false;
        try {
            awaitFile(pidFile, nbdfuse);
            Path image = fuseDir.resolve("nbd");
            loop = Tools.check("losetup", "-f", "--show", image.toString()).trim();
            Tools.check("mkfs.ext4", "-q", "-F", loop);
            Tools.check("mount", loop, mountDir.toString());
            mounted = true;
            Files.writeString(mountDir.resolve("hello.txt"), "hello, szpool\n");
            Path blob = randomFile(mountDir.resolve("blob.bin"), 8L << 20);
            Path expected = randomFile(dir.resolve("blob-expected.bin"), 8L << 20);
            assertEquals(-1, Files.mismatch(blob, expected));
            Tools.check("umount", mountDir.toString());
            mounted = false;
            Tools.check("losetup", "-d", loop);
            loop = null;

            loop = Tools.check("losetup", "-f", "--show", image.toString()).trim();
            Tools.check("mount", loop, mountDir.toString());
            mounted = true;
            assertEquals("hello, szpool\n", Files.readString(mountDir.resolve("hello.txt")));
            assertEquals(-1, Files.mismatch(mountDir.resolve("blob.bin"), expected));
        } finally {
            if (mounted) {
                Tools.run("umount", mountDir.toString());
            }
            if (loop != null) {
                Tools.run("losetup", "-d", loop);
            }
            Tools.run("fusermount3", "-u", fuseDir.toString());
            if (!nbdfuse.waitFor(20, TimeUnit.SECONDS)) {
                nbdfuse.destroyForcibly();
            }
        }
    }

    private static void awaitFile(Path file, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(Files.exists(file) && Files.size(file) > 0)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("nbdfuse did not become ready");
            }
            Thread.sleep(50);
        }
    }

    /** Writes {@code size} bytes of seeded random data (same seed, same content). */
    static Path randomFile(Path path, long size) throws Exception {
        Random random = new Random(42);
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(path)) {
            for (long done = 0; done < size; done += block.length) {
                random.nextBytes(block);
                out.write(block, 0, (int) Math.min(block.length, size - done));
            }
        }
        return path;
    }
}
