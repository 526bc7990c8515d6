package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
final class PoolCommand extends CommandGroup {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /** The states pool-service reports, in its own words. */
    static final List<String> STATES = List.of("creating", "imported", "exported");

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

    static int checkVdevs(int vdevs) {
        if (vdevs < 1) {
            throw new CliException("--vdevs must be 1 or more", CliException.BAD_INPUT);
        }
        return vdevs;
    }

    /**
     * A --field that a pool does not have is a typo, not an empty value: say which fields there
     * are.
     */
    static void checkField(String field, JsonNode pool) {
        if (!pool.has(field)) {
            List<String> names = new ArrayList<>();
            pool.fieldNames().forEachRemaining(names::add);
            throw new CliException(
                    "a pool has no field '" + field + "'; it has " + String.join(", ", names),
                    CliException.BAD_INPUT);
        }
    }

    /** What every pool command shares: the pool-service, and a pool shown as `zpool status`. */
    abstract static class Base extends ServiceCommand {
        Rest pools() {
            return endpoints.pools();
        }

        void show(JsonNode pool) {
            print(pool, PoolCommand::printStatus);
        }

        String sagaOf(String name) {
            JsonNode p = pools().get("/pools/" + name);
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

        @Option(
                names = "--width",
                defaultValue = "6",
                description = "Chunks per vdev, 4 or more (default 6).")
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
            if (width < 4) {
                // pool-service's minimum: two parity columns and at least two of data.
                throw new CliException(
                        "--width must be 4 or more: RAID-Z2 keeps two parity columns",
                        CliException.BAD_INPUT);
            }
            checkVdevs(vdevs);
            long bytes = Sizes.parse(chunkSize);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("width", width);
            body.put("chunkSizeBytes", bytes);
            body.put("vdevs", vdevs);
            JsonNode pool =
                    longPost(
                            "creating pool " + name,
                            () -> "(" + width * vdevs + " chunks of " + Sizes.human(bytes) + ")",
                            pools(),
                            "/pools",
                            body);
            printLine(
                    pool,
                    p ->
                            String.format(
                                    "pool %s created: %s raidz2, %d x %d chunks of %s, %s usable,"
                                            + " volume %s",
                                    name,
                                    p.path("health").asText(),
                                    vdevs,
                                    width,
                                    Sizes.human(bytes),
                                    Sizes.human(p.path("sizeBytes").asLong()),
                                    p.path("nbdExport").asText()));
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
            checkVdevs(vdevs);
            long before = pools().get("/pools/" + name).path("sizeBytes").asLong();
            JsonNode pool =
                    longPost(
                            "growing pool " + name,
                            () -> sagaOf(name),
                            pools(),
                            "/pools/" + name + "/grow",
                            Map.of("vdevs", vdevs));
            printLine(
                    pool,
                    p ->
                            String.format(
                                    "pool %s grown: %s -> %s, %d vdevs",
                                    name,
                                    Sizes.human(before),
                                    Sizes.human(p.path("sizeBytes").asLong()),
                                    p.path("vdevs").size()));
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

        @Option(
                names = "--state",
                description = "Only pools in this state (creating, imported, exported).")
        String state;

        @Override
        public Integer call() {
            checkOneOf("--state", state, STATES);
            List<JsonNode> shown = new ArrayList<>();
            for (JsonNode p : pools().get("/pools").path("pools")) {
                if (state == null || state.equals(p.path("state").asText())) {
                    shown.add(p);
                }
            }
            if (field != null) {
                shown.forEach(p -> checkField(field, p));
            }
            print(Rest.JSON.valueToTree(shown), (out, pools) -> table(out, shown));
            return 0;
        }

        private void table(PrintWriter out, List<JsonNode> pools) {
            if (field != null) {
                pools.forEach(p -> out.println(p.path(field).asText()));
                return;
            }
            out.printf(
                    "%-16s  %6s  %6s  %6s  %4s  %-9s  %-8s  %s%n",
                    "NAME", "SIZE", "ALLOC", "FREE", "CAP", "HEALTH", "STATE", "VOLUME");
            for (JsonNode p : pools) {
                long size = p.path("sizeBytes").asLong();
                long alloc = p.path("allocatedBytes").asLong();
                out.printf(
                        "%-16s  %6s  %6s  %6s  %3d%%  %-9s  %-8s  %s%n",
                        p.path("name").asText(),
                        humanOrDash(p.path("sizeBytes")),
                        humanOrDash(p.path("allocatedBytes")),
                        humanOrDash(p.path("freeBytes")),
                        size == 0 ? 0 : Math.round(100.0 * alloc / size),
                        p.path("health").asText(),
                        p.path("state").asText(),
                        p.path("nbdExport").asText());
            }
        }

        private static String humanOrDash(JsonNode bytes) {
            return bytes.isNull() ? "-" : Sizes.human(bytes.asLong());
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
            JsonNode pool = pools().get("/pools/" + checkName(name));
            if (field != null) {
                checkField(field, pool);
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
                    longPost(
                            "scrubbing pool " + name,
                            null,
                            pools(),
                            "/pools/" + name + "/scrub",
                            null);
            printLine(result, r -> "pool " + name + " scrubbed: " + r);
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
            JsonNode pool = pools().post("/pools/" + checkName(name) + "/export", null);
            printLine(pool, p -> "pool " + name + " exported");
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
            JsonNode pool = pools().post("/pools/" + checkName(name) + "/import", null);
            printLine(
                    pool,
                    p ->
                            String.format(
                                    "pool %s imported: %s, %s, volume %s",
                                    name,
                                    p.path("health").asText(),
                                    Sizes.human(p.path("sizeBytes").asLong()),
                                    p.path("nbdExport").asText()));
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
