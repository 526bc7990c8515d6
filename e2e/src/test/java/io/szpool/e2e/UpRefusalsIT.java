package io.szpool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.e2e.SzpoolRun.Result;
import io.szpool.testing.ProjectLayout;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * `./szpool up` refuses what it cannot run on with one line, exit status 1 (2 for bad flags), and
 * starts nothing: no pid file, no process, the data folder as it was.
 */
class UpRefusalsIT {
    private static final Path WORK = ProjectLayout.target().resolve("e2e-refusals");

    private static Result up(SzpoolRun host, String... more) {
        return up(host, SzpoolRun.freePortOffset(700), more);
    }

    private static Result up(SzpoolRun host, int portOffset, String... more) {
        List<String> args =
                new java.util.ArrayList<>(
                        List.of(
                                "up",
                                "--data",
                                host.data().toString(),
                                "--port-offset",
                                "" + portOffset,
                                "--detach"));
        args.addAll(List.of(more));
        return host.run(args.toArray(String[]::new));
    }

    private static void assertNothingStarted(SzpoolRun host, Result r, int exit) throws Exception {
        assertEquals(exit, r.exit(), r.both());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("szpool up: "), r.err());
        Path run = host.data().resolve("run");
        if (Files.isDirectory(run)) {
            try (Stream<Path> files = Files.list(run)) {
                assertEquals(List.of(), files.filter(f -> f.toString().endsWith(".pid")).toList());
            }
        }
        assertFalse(Files.exists(host.data().resolve("kafka/broker.pid")));
    }

    @Test
    void aPortInUseIsNamedAndNothingStarts() throws Exception {
        SzpoolRun host = new SzpoolRun(WORK.resolve("port"), "refusal-port");
        int offset = SzpoolRun.freePortOffset(700);
        try (ServerSocket taken =
                new ServerSocket(8081 + offset, 1, InetAddress.getLoopbackAddress())) {
            Result r = up(host, offset);
            assertNothingStarted(host, r, 1);
            assertTrue(r.err().contains("port " + (8081 + offset) + " (pool-service)"), r.err());
        }
    }

    @Test
    void aFolderAnotherUpHoldsIsRefusedAndItsClaimKept() throws Exception {
        SzpoolRun host = new SzpoolRun(WORK.resolve("held"), "refusal-held");
        Path lock = host.data().resolve("run/up.pid");
        Files.createDirectories(lock.getParent());
        Process holder = new ProcessBuilder("sleep", "120").start();
        try {
            Files.writeString(lock, holder.pid() + "\n");
            Result r = up(host);
            assertEquals(1, r.exit(), r.both());
            assertEquals(
                    "szpool up: szpool already runs on "
                            + host.data().toRealPath()
                            + " (pid "
                            + holder.pid()
                            + "); stop it with: ./szpool down --data "
                            + host.data().toRealPath(),
                    r.err().strip());
            assertEquals(holder.pid() + "\n", Files.readString(lock));
            assertFalse(Files.exists(host.data().resolve("kafka/broker.pid")));
        } finally {
            holder.destroy();
        }
    }

    @Test
    void aClaimLeftByAKilledUpDoesNotBlock() throws Exception {
        SzpoolRun host = new SzpoolRun(WORK.resolve("stale"), "refusal-stale");
        Path lock = host.data().resolve("run/up.pid");
        Files.createDirectories(lock.getParent());
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(lock, gone.pid() + "\n");
        // A port in use stops this up at its last check, after the stale claim was cleared.
        int offset = SzpoolRun.freePortOffset(700);
        try (ServerSocket taken =
                new ServerSocket(8082 + offset, 1, InetAddress.getLoopbackAddress())) {
            Result r = up(host, offset);
            assertNothingStarted(host, r, 1);
            assertTrue(r.err().contains("port " + (8082 + offset)), r.err());
        }
    }

    @Test
    void badFlagsAreUsageErrors() throws Exception {
        SzpoolRun host = new SzpoolRun(WORK.resolve("flags"), "refusal-flags");
        for (String[] bad :
                new String[][] {
                    {"--width", "3"},
                    {"--width", "65"},
                    {"--chunk-size", "big"},
                    {"--join", "nowhere"},
                    {"--host-id", "a b"},
                    {"--sync-interval", "1"},
                    {"--frobnicate"}
                }) {
            assertNothingStarted(host, up(host, bad), 2);
        }
    }

    @Test
    void aReadOnlyDataFolderIsRefused() throws Exception {
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")), "needs root to mount a tmpfs");
        Path ro = WORK.resolve("ro");
        Files.createDirectories(ro);
        SzpoolRun.sh("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro.toString());
        try {
            SzpoolRun host = new SzpoolRun(ro, "refusal-ro");
            Result r = up(host);
            assertEquals(1, r.exit(), r.both());
            assertTrue(r.err().contains("is not writable"), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        } finally {
            SzpoolRun.sh("umount", ro.toString());
        }
    }

    @Test
    void aFullDataFolderIsRefused() throws Exception {
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")), "needs root to mount a tmpfs");
        Path small = WORK.resolve("small");
        Files.createDirectories(small);
        SzpoolRun.sh("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", small.toString());
        try {
            SzpoolRun host = new SzpoolRun(small, "refusal-full");
            Result r = up(host);
            assertNothingStarted(host, r, 1);
            assertTrue(r.err().contains("less than 256 MiB free"), r.err());
        } finally {
            SzpoolRun.sh("umount", small.toString());
        }
    }

    @Test
    void withoutJavaOnThePathUpSaysSo() throws Exception {
        SzpoolRun host = new SzpoolRun(WORK.resolve("nojava"), "refusal-nojava");
        // A PATH with the shell tools the script uses, and no java.
        Path bin = WORK.resolve("bin-without-java");
        Files.createDirectories(bin);
        for (String tool : List.of("bash", "dirname", "hostname", "cat", "sed")) {
            Path link = bin.resolve(tool);
            if (!Files.exists(link)) {
                Files.createSymbolicLink(link, Path.of("/usr/bin", tool));
            }
        }
        Result r = host.runWithPath(bin.toString(), "up", "--data", host.data().toString());
        assertEquals(1, r.exit(), r.both());
        assertEquals(
                "szpool up: java not found on PATH (Java 17 or newer needed)", r.err().strip());
    }
}
