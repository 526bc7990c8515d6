package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Pool commands, answered by this host's pool-service. */
@Command(
        name = "pool",
        description =
                "RAID-Z2 pools of this host: create, grow, list, status, scrub, export, import.",
        mixinStandardHelpOptions = true,
        subcommands = {
            PoolCommand.Create.class,
            PoolCommand.Grow.class,
            PoolCommand.ListPools.class,
            PoolCommand.Status.class,
            PoolCommand.Scrub.class,
            PoolCommand.Export.class,
            PoolCommand.Import.class
        })
final class PoolCommand implements Runnable {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static String checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new CliException(
                    "not a valid pool name: '"
                            + name
                            + "' (letters, digits, '.', '_', '-'; up to 64)",
                    CliException.BAD_INPUT);
        }
        return name;
    }

    /** What every pool command shares: the services, --json, the output. */
    abstract static class Base implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin Endpoints endpoints;

        @Option(names = "--json", description = "The service's JSON answer.")
        boolean json;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        /** Prints a pool as `zpool status` would, or its JSON. */
        void show(JsonNode pool) {
            if (json) {
                out().println(pool.toString());
            } else {
                PoolCommand.printStatus(out(), pool);
            }
            out().flush();
        }

        String sagaOf(String name) {
            JsonNode p = endpoints.pools().get("/pools/" + name);
            String saga = p.path("saga").asText("");
            return saga.isEmpty() || saga.equals("null") ? "" : saga;
        }
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Creates a pool of encrypted sparse chunks; returns once it serves.")
    static final class Create extends Base {
        @Parameters(paramLabel = "NAME", description = "The pool's name.")
        String name;

        @Option(names = "--width", defaultValue = "6", description = "Chunks per vdev (default 6).")
        int width;

        @Option(
                names = "--chunk-size",
                defaultValue = "1G",
                description = "Size of each chunk file: 64M, 1G... (default 1G).")
        String chunkSize;

        @Option(names = "--vdevs", defaultValue = "1", description = "RAID-Z2 vdevs (default 1).")
        int vdevs;

        @Override
        public Integer call() {
            checkName(name);
            if (width < 3) {
                throw new CliException(
                        "--width must be 3 or more: RAID-Z2 keeps two parity columns",
                        CliException.BAD_INPUT);
            }
            if (vdevs < 1) {
                throw new CliException("--vdevs must be 1 or more", CliException.BAD_INPUT);
            }
            long bytes = Sizes.parse(chunkSize);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("width", width);
            body.put("chunkSizeBytes", bytes);
            body.put("vdevs", vdevs);
            JsonNode pool =
                    Progress.run(
                            err(),
                            "creating pool " + name,
                            () -> "(" + width * vdevs + " chunks of " + Sizes.human(bytes) + ")",
                            () -> endpoints.pools().post("/pools", body));
            if (json) {
                show(pool);
            } else {
                out().printf(
                                "pool %s created: %s raidz2, %d x %d chunks of %s, %s usable, volume %s%n",
                                name,
                                pool.path("health").asText(),
                                vdevs,
                                width,
                                Sizes.human(bytes),
                                Sizes.human(pool.path("sizeBytes").asLong()),
                                pool.path("nbdExport").asText());
                out().flush();
            }
            return 0;
        }
    }

    @Command(
            name = "grow",
            mixinStandardHelpOptions = true,
            description = "Adds RAID-Z2 vdevs of new chunks to a pool.")
    static final class Grow extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--vdevs", defaultValue = "1", description = "Vdevs to add (default 1).")
        int vdevs;

        @Override
        public Integer call() {
            checkName(name);
            if (vdevs < 1) {
                throw new CliException("--vdevs must be 1 or more", CliException.BAD_INPUT);
            }
            long before = endpoints.pools().get("/pools/" + name).path("sizeBytes").asLong();
            JsonNode pool =
                    Progress.run(
                            err(),
                            "growing pool " + name,
                            () -> sagaOf(name),
                            () ->
                                    endpoints
                                            .pools()
                                            .post(
                                                    "/pools/" + name + "/grow",
                                                    Map.of("vdevs", vdevs)));
            if (json) {
                show(pool);
            } else {
                out().printf(
                                "pool %s grown: %s -> %s, %d vdevs%n",
                                name,
                                Sizes.human(before),
                                Sizes.human(pool.path("sizeBytes").asLong()),
                                pool.path("vdevs").size());
                out().flush();
            }
            return 0;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Lists this host's pools, as `zpool list` does.")
    static final class ListPools extends Base {
        @Option(
                names = "--field",
                description = "Print only this field of each pool, one per line (for scripts).")
        String field;

        @Option(names = "--state", description = "Only pools in this state (imported, exported).")
        String state;

        @Override
        public Integer call() {
            JsonNode pools = endpoints.pools().get("/pools").path("pools");
            PrintWriter out = out();
            if (json) {
                out.println(pools.toString());
            } else if (field != null) {
                for (JsonNode p : pools) {
                    if (state == null || state.equals(p.path("state").asText())) {
                        out.println(p.path(field).asText());
                    }
                }
            } else {
                out.printf(
                        "%-16s  %6s  %6s  %6s  %4s  %-9s  %-8s  %s%n",
                        "NAME", "SIZE", "ALLOC", "FREE", "CAP", "HEALTH", "STATE", "VOLUME");
                for (JsonNode p : pools) {
                    if (state != null && !state.equals(p.path("state").asText())) {
                        continue;
                    }
                    long size = p.path("sizeBytes").asLong();
                    long alloc = p.path("allocatedBytes").asLong();
                    out.printf(
                            "%-16s  %6s  %6s  %6s  %3d%%  %-9s  %-8s  %s%n",
                            p.path("name").asText(),
                            p.path("sizeBytes").isNull() ? "-" : Sizes.human(size),
                            p.path("allocatedBytes").isNull() ? "-" : Sizes.human(alloc),
                            p.path("freeBytes").isNull()
                                    ? "-"
                                    : Sizes.human(p.path("freeBytes").asLong()),
                            size == 0 ? 0 : Math.round(100.0 * alloc / size),
                            p.path("health").asText(),
                            p.path("state").asText(),
                            p.path("nbdExport").asText());
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "A pool's health, capacity and devices, as `zpool status` does.")
    static final class Status extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--field", description = "Print only this field (for scripts).")
        String field;

        @Override
        public Integer call() {
            JsonNode pool = endpoints.pools().get("/pools/" + checkName(name));
            if (field != null) {
                out().println(pool.path(field).asText());
                out().flush();
            } else {
                show(pool);
            }
            return 0;
        }
    }

    @Command(
            name = "scrub",
            mixinStandardHelpOptions = true,
            description = "Reads every block of a pool, checks and repairs it.")
    static final class Scrub extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            checkName(name);
            JsonNode result =
                    Progress.run(
                            err(),
                            "scrubbing pool " + name,
                            null,
                            () -> endpoints.pools().post("/pools/" + name + "/scrub", null));
            if (json) {
                out().println(result.toString());
            } else {
                out().printf("pool %s scrubbed: %s%n", name, result.toString());
            }
            out().flush();
            return 0;
        }
    }

    @Command(
            name = "export",
            mixinStandardHelpOptions = true,
            description = "Flushes a pool and closes it; `import` opens it again.")
    static final class Export extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            JsonNode pool = endpoints.pools().post("/pools/" + checkName(name) + "/export", null);
            if (json) {
                show(pool);
            } else {
                out().printf("pool %s exported%n", name);
                out().flush();
            }
            return 0;
        }
    }

    @Command(
            name = "import",
            mixinStandardHelpOptions = true,
            description = "Opens an exported pool from its devices and serves its volume.")
    static final class Import extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            JsonNode pool = endpoints.pools().post("/pools/" + checkName(name) + "/import", null);
            if (json) {
                show(pool);
            } else {
                out().printf(
                                "pool %s imported: %s, %s, volume %s%n",
                                name,
                                pool.path("health").asText(),
                                Sizes.human(pool.path("sizeBytes").asLong()),
                                pool.path("nbdExport").asText());
                out().flush();
            }
            return 0;
        }
    }

    static void printStatus(PrintWriter out, JsonNode p) {
        out.printf("  pool: %s (%s)%n", p.path("name").asText(), p.path("poolId").asText());
        out.printf(" state: %s, %s%n", p.path("state").asText(), p.path("health").asText());
        if (!p.path("sizeBytes").isNull()) {
            out.printf(
                    "  size: %s, %s allocated, %s free%n",
                    Sizes.human(p.path("sizeBytes").asLong()),
                    Sizes.human(p.path("allocatedBytes").asLong()),
                    Sizes.human(p.path("freeBytes").asLong()));
        }
        out.printf("volume: %s%n", p.path("nbdExport").asText());
        JsonNode policy = p.path("autoGrow");
        if (!policy.isMissingNode()) {
            out.printf(
                    "  grow: %s at %d%% (up to %s)%n",
                    policy.path("enabled").asBoolean() ? "automatic" : "manual",
                    policy.path("thresholdPercent").asInt(),
                    Sizes.human(policy.path("maxSizeBytes").asLong()));
        }
        if (!p.path("saga").isNull() && !p.path("saga").asText("").isEmpty()) {
            out.printf("  busy: %s in progress%n", p.path("saga").asText());
        }
        out.printf("config:%n%n");
        out.printf("\t%-40s %-8s %4s %5s %5s%n", "NAME", "STATE", "READ", "WRITE", "CKSUM");
        for (JsonNode v : p.path("vdevs")) {
            out.printf(
                    "\t  raidz2-%-33d %-8s%n", v.path("index").asInt(), v.path("health").asText());
            for (JsonNode d : v.path("devices")) {
                out.printf(
                        "\t    %-36s %-8s %4d %5d %5d%n",
                        d.path("chunkId").asText(),
                        d.path("state").asText(),
                        d.path("readErrors").asLong(),
                        d.path("writeErrors").asLong(),
                        d.path("checksumErrors").asLong());
            }
        }
    }
}
