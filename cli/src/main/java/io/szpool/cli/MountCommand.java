package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Mounting a pool's volume as a file system: the NBD volume becomes a block device (the kernel's
 * nbd-client where /dev/nbd* exists, else nbdfuse's file under a loop device), gets a file system
 * on first use, and is mounted. What was attached is recorded in DATA/run/mounts so umount, resize
 * and `szpool down` undo it in the safe order: file system, loop device, FUSE, NBD.
 */
final class MountCommand {
    private MountCommand() {}

    static Path mountsDir() {
        return Config.data().resolve("run/mounts");
    }

    static Path stateFile(Path dir) {
        try {
            byte[] h =
                    MessageDigest.getInstance("SHA-256")
                            .digest(dir.toString().getBytes(StandardCharsets.UTF_8));
            return mountsDir().resolve(HexFormat.of().formatHex(h, 0, 8) + ".mount");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What one `szpool mount` attached. */
    record Attached(
            Path dir, String pool, URI volume, String fs, String mode, Path fuse, String device) {
        Properties toProperties() {
            Properties p = new Properties();
            p.setProperty("dir", dir.toString());
            p.setProperty("pool", pool);
            p.setProperty("volume", volume.toString());
            p.setProperty("fs", fs);
            p.setProperty("mode", mode);
            p.setProperty("fuse", fuse == null ? "" : fuse.toString());
            p.setProperty("device", device);
            return p;
        }

        static Attached of(Properties p) {
            String fuse = p.getProperty("fuse", "");
            return new Attached(
                    Path.of(p.getProperty("dir")),
                    p.getProperty("pool"),
                    URI.create(p.getProperty("volume")),
                    p.getProperty("fs"),
                    p.getProperty("mode"),
                    fuse.isEmpty() ? null : Path.of(fuse),
                    p.getProperty("device"));
        }

        void save() {
            try {
                Files.createDirectories(mountsDir());
                try (Writer w = Files.newBufferedWriter(stateFile(dir))) {
                    toProperties().store(w, "szpool mount");
                }
            } catch (IOException e) {
                throw new CliException("cannot record the mount: " + e.getMessage());
            }
        }

        static Attached load(Path dir) {
            Path f = stateFile(dir);
            if (!Files.isRegularFile(f)) {
                throw new CliException(
                        dir + " is not mounted by szpool (no " + f + ")", CliException.NOT_FOUND);
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(f)) {
                p.load(r);
            } catch (IOException e) {
                throw new CliException("cannot read " + f + ": " + e.getMessage());
            }
            return of(p);
        }
    }

    /** Runs a system command; its failure is one line naming the command and its message. */
    static String sh(String... command) {
        return sh(List.of(command), true);
    }

    static String sh(List<String> command, boolean required) {
        try {
            Process p =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectInput(
                                    ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                            .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new CliException(command.get(0) + " did not finish within 10 minutes");
            }
            if (p.exitValue() != 0 && required) {
                String last = out.strip();
                int nl = last.lastIndexOf('\n');
                throw new CliException(
                        String.join(" ", command)
                                + " failed ("
                                + p.exitValue()
                                + "): "
                                + (nl >= 0 ? last.substring(nl + 1) : last));
            }
            return p.exitValue() == 0 ? out.strip() : null;
        } catch (IOException e) {
            throw new CliException(
                    command.get(0) + " is not installed or cannot run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool))
                || Files.isExecutable(Path.of("/sbin", tool));
    }

    static boolean isMountPoint(Path dir) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[4].replace("\\040", " ").equals(dir.toString())) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static void requireRoot() {
        String uid = sh(List.of("id", "-u"), false);
        if (!"0".equals(uid)) {
            throw new CliException(
                    "mounting needs root (a loop or nbd device and mount(8)); run it with sudo");
        }
    }

    /** Connects the volume and returns the block device that carries it. */
    static Attached attach(Path dir, String pool, URI volume, String fs) {
        boolean kernelNbd = Files.exists(Path.of("/dev/nbd0")) && onPath("nbd-client");
        if (kernelNbd) {
            for (int i = 0; i < 16; i++) {
                Path dev = Path.of("/dev/nbd" + i);
                if (!Files.exists(dev)) {
                    break;
                }
                if (sh(List.of("nbd-client", "-c", dev.toString()), false) != null) {
                    continue; // in use: -c answers with the pid of its client
                }
                sh(
                        "nbd-client",
                        volume.getHost(),
                        String.valueOf(volume.getPort()),
                        dev.toString(),
                        "-N",
                        volume.getPath().substring(1));
                return new Attached(dir, pool, volume, fs, "nbd-client", null, dev.toString());
            }
            throw new CliException("every /dev/nbd device is in use");
        }
        if (!onPath("nbdfuse")) {
            throw new CliException(
                    "neither nbd-client with /dev/nbd* nor nbdfuse is here: install nbd-client"
                            + " (and modprobe nbd) or nbdfuse");
        }
        Path fuse = stateFile(dir).resolveSibling(stateFile(dir).getFileName() + ".fuse");
        Path pid = fuse.resolveSibling(fuse.getFileName() + ".pid");
        try {
            Files.createDirectories(fuse);
            Files.deleteIfExists(pid);
            // setsid: nbdfuse serves the file for as long as the mount lives, past this command.
            new ProcessBuilder(
                            "setsid",
                            "nbdfuse",
                            "-P",
                            pid.toString(),
                            fuse.resolve("volume").toString(),
                            volume.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(fuse.resolveSibling(fuse.getFileName() + ".log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            for (int i = 0; i < 300 && !Files.exists(pid); i++) {
                Thread.sleep(100);
            }
        } catch (IOException e) {
            throw new CliException("cannot start nbdfuse: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
        if (!Files.exists(pid)) {
            throw new CliException(
                    "nbdfuse did not connect to " + volume + " within 30 s (see " + fuse + ".log)");
        }
        String loop = sh("losetup", "--find", "--show", fuse.resolve("volume").toString());
        // Direct I/O: no second page cache over nbdfuse's file, and several requests in flight to
        // it instead of the buffered loop device's one at a time (pool-service README, "Speed").
        // Where the file refuses O_DIRECT the buffered loop device still works: not required.
        sh(List.of("losetup", "--direct-io=on", loop), false);
        return new Attached(dir, pool, volume, fs, "nbdfuse", fuse, loop);
    }

    /** Disconnects what {@link #attach} connected, the loop device before the FUSE file. */
    static void detach(Attached a) {
        if (a.mode().equals("nbd-client")) {
            sh("nbd-client", "-d", a.device());
            return;
        }
        sh(List.of("losetup", "-d", a.device()), false);
        Path pid = a.fuse().resolveSibling(a.fuse().getFileName() + ".pid");
        sh(List.of("fusermount3", "-u", a.fuse().toString()), false);
        try {
            if (Files.exists(pid)) {
                long p = Long.parseLong(Files.readString(pid).trim());
                for (int i = 0;
                        i < 100 && ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false);
                        i++) {
                    Thread.sleep(100);
                }
                Files.deleteIfExists(pid);
            }
            Files.deleteIfExists(a.fuse().resolve("volume"));
            Files.deleteIfExists(a.fuse());
        } catch (IOException | NumberFormatException e) {
            // Left-over files are harmless; the next mount of this folder replaces them.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Grows the mounted file system into its device, which is a no-op when it fills it already. */
    static void growFs(Attached a) {
        switch (a.fs()) {
            case "ext4" -> sh("resize2fs", a.device());
            case "xfs" -> sh("xfs_growfs", a.dir().toString());
            case "btrfs" -> sh("btrfs", "filesystem", "resize", "max", a.dir().toString());
            default -> throw new CliException("cannot grow a " + a.fs() + " file system");
        }
    }

    static void mountFs(Attached a) {
        sh("mount", a.device(), a.dir().toString());
    }

    @Command(
            name = "mount",
            mixinStandardHelpOptions = true,
            description = {
                "Mounts a pool's volume at DIR, with a file system made on first use.",
                "Uses the kernel's nbd-client where /dev/nbd* exists, else nbdfuse + a loop"
                        + " device. Needs root. After `pool grow`, run `szpool resize DIR`."
            })
    static final class Mount implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin Endpoints endpoints;

        @Parameters(index = "0", paramLabel = "NAME", description = "The pool.")
        String name;

        @Parameters(
                index = "1",
                paramLabel = "DIR",
                description = "An empty folder (made when absent).")
        Path dir;

        @Option(
                names = "--fs",
                defaultValue = "ext4",
                description = "File system made on first use: ext4, xfs or btrfs (default ext4).")
        String fs;

        @Override
        public Integer call() {
            PoolCommand.checkName(name);
            ServiceCommand.checkOneOf("--fs", fs, List.of("ext4", "xfs", "btrfs"));
            Path target = dir.toAbsolutePath().normalize();
            if (Files.exists(target) && !Files.isDirectory(target)) {
                throw new CliException(target + " is not a folder", CliException.BAD_INPUT);
            }
            if (isMountPoint(target)) {
                throw new CliException(
                        target + " has something mounted already", CliException.CONFLICT);
            }
            if (Files.exists(stateFile(target))) {
                throw new CliException(
                        target + " is recorded as a szpool mount; run szpool umount " + target,
                        CliException.CONFLICT);
            }
            if (!onPath("mkfs." + fs)) {
                throw new CliException("mkfs." + fs + " is not installed");
            }
            JsonNode pool = endpoints.pools().get("/pools/" + name);
            if (!"imported".equals(pool.path("state").asText())) {
                throw new CliException(
                        "pool " + name + " is " + pool.path("state").asText() + ", not imported",
                        CliException.CONFLICT);
            }
            requireRoot();
            try {
                // The line `szpool up` prints names /mnt/szpool: it works without a mkdir first.
                Files.createDirectories(target);
            } catch (IOException e) {
                throw new CliException("cannot create " + target + ": " + e.getMessage());
            }
            URI volume = URI.create(pool.path("nbdExport").asText());
            Attached a = attach(target, name, volume, fs);
            List<String> done = new ArrayList<>();
            try {
                String existing =
                        sh(List.of("blkid", "-p", "-o", "value", "-s", "TYPE", a.device()), false);
                String made = "";
                if (existing == null || existing.isEmpty()) {
                    // No discard: it would trim the whole volume through FUSE for nothing; no
                    // lazy init: ext4's background zeroing would keep the pool busy for minutes.
                    switch (fs) {
                        case "ext4" ->
                                sh(
                                        "mkfs.ext4",
                                        "-q",
                                        "-F",
                                        "-L",
                                        name,
                                        "-E",
                                        "nodiscard,lazy_itable_init=0,lazy_journal_init=0",
                                        a.device());
                        case "xfs" -> sh("mkfs.xfs", "-q", "-K", "-L", name, a.device());
                        default -> sh("mkfs.btrfs", "-q", "-K", "-L", name, a.device());
                    }
                    made = ", new " + fs + " file system";
                } else if (!existing.equals(fs)) {
                    a =
                            new Attached(
                                    a.dir(),
                                    name,
                                    volume,
                                    existing,
                                    a.mode(),
                                    a.fuse(),
                                    a.device());
                    made = ", its " + existing + " file system";
                }
                mountFs(a);
                done.add("mount");
                a.save();
                try {
                    growFs(a);
                } catch (CliException growFailed) {
                    // The file system is mounted and usable; only the new space is not in it yet.
                    spec.commandLine()
                            .getErr()
                            .println(
                                    "szpool: warning: the file system did not grow online ("
                                            + growFailed.getMessage()
                                            + "); run szpool resize "
                                            + target);
                }
                PrintWriter out = spec.commandLine().getOut();
                out.printf(
                        "pool %s mounted at %s (%s via %s%s)%n",
                        name, target, a.device(), a.mode(), made);
                out.flush();
                return 0;
            } catch (RuntimeException e) {
                if (done.contains("mount")) {
                    sh(List.of("umount", target.toString()), false);
                }
                detach(a);
                try {
                    Files.deleteIfExists(stateFile(target));
                } catch (IOException ignored) {
                    // nothing more to undo
                }
                throw e;
            }
        }
    }

    @Command(
            name = "umount",
            mixinStandardHelpOptions = true,
            description = "Unmounts DIR and disconnects its volume, in the safe order.")
    static final class Umount implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Parameters(paramLabel = "DIR")
        Path dir;

        @Override
        public Integer call() throws IOException {
            Path target = dir.toAbsolutePath().normalize();
            Attached a = Attached.load(target);
            if (isMountPoint(target)) {
                // umount flushes the file system down through the loop device to the pool.
                sh("umount", target.toString());
            }
            detach(a);
            Files.deleteIfExists(stateFile(target));
            spec.commandLine().getOut().printf("%s unmounted (pool %s)%n", target, a.pool());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(
            name = "resize",
            mixinStandardHelpOptions = true,
            description =
                    "Grows the file system at DIR into its pool's current size (after a grow).")
    static final class Resize implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Parameters(paramLabel = "DIR")
        Path dir;

        @Override
        public Integer call() {
            Path target = dir.toAbsolutePath().normalize();
            Attached a = Attached.load(target);
            long before = Long.parseLong(sh("blockdev", "--getsize64", a.device()));
            if (a.mode().equals("nbdfuse")) {
                // nbdfuse's file keeps the size it connected with: reconnect to see the new one.
                sh("umount", target.toString());
                detach(a);
                a = attach(target, a.pool(), a.volume(), a.fs());
                if (a.fs().equals("ext4")) {
                    // Offline: an online grow of a small ext4 can run out of reserved GDT blocks.
                    sh(List.of("e2fsck", "-f", "-y", a.device()), false);
                    sh("resize2fs", a.device());
                }
                mountFs(a);
                a.save();
            }
            if (!a.fs().equals("ext4") || a.mode().equals("nbd-client")) {
                growFs(a);
            }
            long after = Long.parseLong(sh("blockdev", "--getsize64", a.device()));
            spec.commandLine()
                    .getOut()
                    .printf(
                            "%s: volume %s -> %s, file system grown%n",
                            target, Sizes.human(before), Sizes.human(after));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
