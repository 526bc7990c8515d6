package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Backup generations of a pool on its sync target, answered by this host's sync-service. */
@Command(
        name = "sync",
        description = "Backup generations of a pool: sync now, status, verify.",
        mixinStandardHelpOptions = true,
        subcommands = {SyncCommand.Now.class, SyncCommand.Status.class, SyncCommand.Verify.class})
final class SyncCommand extends CommandGroup {
    /** What every sync command shares: the pool by name, the target, the sync-service. */
    abstract static class Base extends ServiceCommand {
        @Parameters(paramLabel = "NAME", description = "The pool.")
        String name;

        @Option(
                names = "--target",
                description =
                        "Where to: /path, rsync://host/module/path, user@host:path"
                                + " (default: the sync-service's default target).")
        String target;

        /** The sync-service knows pools by id; users by name. */
        String poolId() {
            PoolCommand.checkName(name);
            return endpoints.pools().get("/pools/" + name).path("poolId").asText();
        }

        /** A request body with the target, when given, and one optional field. */
        Map<String, Object> request(String field, Object value) {
            Map<String, Object> body = new LinkedHashMap<>();
            if (target != null) {
                body.put("target", target);
            }
            if (value != null) {
                body.put(field, value);
            }
            return body;
        }
    }

    @Command(
            name = "now",
            mixinStandardHelpOptions = true,
            description = {
                "Writes a new generation of the pool on the target; returns when its manifest is"
                        + " there.",
                "File systems that `szpool mount` mounted from the pool are frozen meanwhile, so"
                        + " the generation is consistent."
            })
    static final class Now extends Base {
        @Option(names = "--bwlimit", description = "rsync --bwlimit in KiB/s (0: none).")
        Integer bwlimit;

        @Override
        public Integer call() {
            if (bwlimit != null && bwlimit < 0) {
                throw new CliException("--bwlimit must be 0 or more", CliException.BAD_INPUT);
            }
            String id = poolId();
            Map<String, Object> body = request("bwlimitKib", bwlimit);
            List<Path> frozen = new ArrayList<>();
            JsonNode answer;
            try {
                for (Path dir : mountsOf(name)) {
                    // fsfreeze flushes the file system down to the pool and holds writes.
                    MountCommand.sh("fsfreeze", "--freeze", dir.toString());
                    frozen.add(dir);
                }
                answer =
                        longPost(
                                "syncing pool " + name,
                                null,
                                endpoints.syncs(),
                                "/syncs/" + id,
                                body);
            } finally {
                for (Path dir : frozen) {
                    MountCommand.sh(List.of("fsfreeze", "--unfreeze", dir.toString()), false);
                }
            }
            printLine(
                    answer,
                    a ->
                            String.format(
                                    "pool %s synced: generation %d on %s, %d of %d chunks sent, %s"
                                            + " sent (%s literal) in %.1f s",
                                    name,
                                    a.path("generation").asLong(),
                                    a.path("target").asText(),
                                    a.path("chunksSent").asInt(),
                                    a.path("chunks").asInt(),
                                    Sizes.human(a.path("bytesSent").asLong()),
                                    Sizes.human(a.path("literalBytes").asLong()),
                                    a.path("durationMs").asLong() / 1000.0));
            return 0;
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "The pool's generations on the target and its last run.")
    static final class Status extends Base {
        @Override
        public Integer call() {
            String id = poolId();
            Map<String, String> query = new LinkedHashMap<>();
            query.put("target", target);
            JsonNode status = endpoints.syncs().get("/syncs/" + id, query);
            print(status, this::table);
            return 0;
        }

        private void table(PrintWriter out, JsonNode status) {
            out.printf("pool %s on %s%n", name, status.path("target").asText("(default target)"));
            JsonNode last = status.path("lastRun");
            if (!last.isMissingNode() && !last.isNull()) {
                out.printf(
                        "  last run: %s %s at %s (%s)%n",
                        last.path("kind").asText(),
                        last.path("succeeded").asBoolean() ? "succeeded" : "FAILED",
                        last.path("finishedAt").asText(),
                        last.path("detail").asText());
            }
            if (!status.path("running").isNull() && !status.path("running").isMissingNode()) {
                out.printf("  running: %s%n", status.path("running"));
            }
            out.printf(
                    "  %10s  %-30s  %6s  %8s  %s%n",
                    "GENERATION", "CREATED", "CHUNKS", "SIZE", "PINNED");
            for (JsonNode g : status.path("generations")) {
                out.printf(
                        "  %10d  %-30s  %6d  %8s  %s%n",
                        g.path("generation").asLong(),
                        g.path("createdAt").asText(),
                        g.path("chunks").asInt(),
                        Sizes.human(g.path("sizeBytes").asLong()),
                        g.path("pinned").asBoolean() ? "yes" : "no");
            }
        }
    }

    @Command(
            name = "verify",
            mixinStandardHelpOptions = true,
            description =
                    "Checks every chunk of a generation on the target (presence, size, SHA-256).")
    static final class Verify extends Base {
        @Option(names = "--generation", description = "Which generation (default: the latest).")
        Long generation;

        @Override
        public Integer call() {
            RestoreCommand.checkGeneration(generation);
            String id = poolId();
            Map<String, Object> body = request("generation", generation);
            JsonNode answer =
                    longPost(
                            "verifying pool " + name,
                            null,
                            endpoints.syncs(),
                            "/syncs/" + id + "/verify",
                            body);
            boolean intact = answer.path("intact").asBoolean();
            printLine(
                    answer,
                    a ->
                            String.format(
                                    "pool %s generation %d on %s: %s",
                                    name,
                                    a.path("generation").asLong(),
                                    a.path("target").asText(),
                                    intact
                                            ? "intact (" + a.path("chunks").size() + " chunks)"
                                            : "missing "
                                                    + a.path("missing")
                                                    + ", damaged "
                                                    + a.path("damaged")));
            return intact ? 0 : CliException.FAILED;
        }
    }

    /** The folders `szpool mount` mounted from this pool, from its records. */
    static List<Path> mountsOf(String pool) {
        List<Path> dirs = new ArrayList<>();
        Path mounts = MountCommand.mountsDir();
        if (!Files.isDirectory(mounts)) {
            return dirs;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(mounts, "*.mount")) {
            for (Path f : files) {
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(f)) {
                    p.load(r);
                }
                if (pool.equals(p.getProperty("pool"))
                        && MountCommand.isMountPoint(Path.of(p.getProperty("dir")))) {
                    dirs.add(Path.of(p.getProperty("dir")));
                }
            }
        } catch (IOException e) {
            throw new CliException("cannot read the mount records in " + mounts + ": " + e);
        }
        return dirs;
    }
}
