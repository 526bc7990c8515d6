package io.szpool.e2e;

import io.szpool.testing.Ports;
import io.szpool.testing.ProjectLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the root {@code ./szpool} script the way a user does, against the stack of one data folder
 * (its SZPOOL_CONFIG), and keeps a transcript of every command in target/e2e-transcripts.
 */
final class SzpoolRun {
    /** What a command printed and its exit status. */
    record Result(int exit, String out, String err) {
        String both() {
            return out + err;
        }
    }

    private final Path data;
    private final Path transcript;

    SzpoolRun(Path data, String name) {
        this.data = data;
        this.transcript = ProjectLayout.target().resolve("e2e-transcripts").resolve(name + ".txt");
        try {
            Files.createDirectories(transcript.getParent());
            Files.deleteIfExists(transcript);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    Path data() {
        return data;
    }

    Result run(String... args) {
        return runWithPath(null, args);
    }

    /** Runs with PATH replaced (null: unchanged), to show what happens without a tool. */
    Result runWithPath(String path, String... args) {
        List<String> command = new ArrayList<>();
        command.add(ProjectLayout.root().resolve("szpool").toString());
        command.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(ProjectLayout.root().toFile());
        Map<String, String> env = pb.environment();
        env.put("SZPOOL_CONFIG", data.resolve("szpool.properties").toString());
        env.remove("SZPOOL_PASSPHRASE");
        env.put("SZPOOL_NO_BUILD", "1");
        if (path != null) {
            env.put("PATH", path);
        }
        try {
            Path out = Files.createTempFile("szpool-out", ".txt");
            Path err = Files.createTempFile("szpool-err", ".txt");
            Process p =
                    pb.redirectOutput(out.toFile())
                            .redirectErrorStream(false)
                            .redirectError(err.toFile())
                            .redirectInput(
                                    ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                            .start();
            if (!p.waitFor(20, TimeUnit.MINUTES)) {
                p.descendants().forEach(ProcessHandle::destroy);
                p.destroyForcibly();
                throw new AssertionError("szpool " + String.join(" ", args) + " hung for 20 min");
            }
            Result r =
                    new Result(
                            p.exitValue(),
                            Files.readString(out, StandardCharsets.UTF_8),
                            Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            Files.writeString(
                    transcript,
                    "$ szpool "
                            + String.join(" ", args)
                            + "\n"
                            + r.both()
                            + "[exit "
                            + r.exit()
                            + "]\n\n",
                    StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            return r;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Fails the test with the command's output when it did not succeed. */
    Result ok(String... args) {
        Result r = run(args);
        if (r.exit() != 0) {
            throw new AssertionError(
                    "szpool " + String.join(" ", args) + " exited " + r.exit() + ":\n" + r.both());
        }
        return r;
    }

    /** Runs a system command for a test's setup; fails the test when it fails. */
    static void sh(String... command) {
        try {
            Process p = new ProcessBuilder(command).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new AssertionError(String.join(" ", command) + " exited " + p.exitValue());
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An offset that moves all nine ports of SPEC.md onto free ones. */
    static int freePortOffset(int from) {
        int[] base = {8080, 8081, 8082, 8083, 10809, 10810, 19092, 19093, 15432};
        for (int offset = from; offset < 1000; offset += 7) {
            boolean free = true;
            for (int p : base) {
                free &= !Ports.accepts(p + offset);
            }
            if (free) {
                return offset;
            }
        }
        throw new IllegalStateException("no free port offset");
    }

    /** Why mounting cannot run here, or null when it can (root, /dev/fuse, nbdfuse, losetup). */
    static String whyNoMount() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not root: szpool mount needs a loop device and mount(8)";
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return "no /dev/fuse: nbdfuse cannot run";
        }
        for (String tool : List.of("nbdfuse", "losetup", "mkfs.ext4", "fusermount3")) {
            boolean found = false;
            for (String dir : List.of("/usr/bin", "/usr/sbin", "/bin", "/sbin")) {
                found |= Files.isExecutable(Path.of(dir, tool));
            }
            if (!found) {
                return tool + " is not installed";
            }
        }
        return null;
    }
}
