package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Restores a pool from a sync target with only the target and the passphrase: fetched, checked, and
 * (unless --no-import) adopted by this host's crypto-device-service, imported by its pool-service
 * with up to two bad chunks per vdev rebuilt, and scrubbed, ready to mount.
 */
@Command(
        name = "restore",
        mixinStandardHelpOptions = true,
        description = {
            "Restores pool NAME from a sync target: fetches a generation, checks every chunk against"
                    + " its manifest, then has this host's services adopt the chunks, import the"
                    + " pool (RAID-Z2 rebuilds up to two missing or damaged chunks per vdev) and"
                    + " scrub it. Ends with the `szpool mount` line.",
            "More than two bad chunks in a vdev: refused before anything changes, naming the chunks"
                    + " and an earlier generation that still has them.",
            "--no-import only fetches the files into a fresh folder laid out as a crypto-device"
                    + " data folder."
        })
final class RestoreCommand extends ServiceCommand {

    @Parameters(
            paramLabel = "NAME",
            description =
                    "The pool's name: pool-service imports the pool whose chunk labels carry it.")
    String name;

    @Option(names = "--from", required = true, description = "The sync target.")
    String from;

    @Option(names = "--generation", description = "Which generation (default: the latest).")
    Long generation;

    @Option(
            names = "--pool-id",
            description = "The pool's id, when the target holds generations of several pools.")
    String poolId;

    @Option(
            names = "--into",
            description =
                    "A fresh folder to fetch into (default: with --no-import DATA/restore/NAME-<time>,"
                            + " else a folder of sync-service's that crypto-device-service then"
                            + " takes over).")
    Path into;

    @Option(
            names = "--no-import",
            description = "Only fetch and check the chunk files; import nothing.")
    boolean noImport;

    @Override
    public Integer call() {
        PoolCommand.checkName(name);
        checkGeneration(generation);
        if (from.isBlank()) {
            throw new CliException("--from names the sync target", CliException.BAD_INPUT);
        }
        Path folder = into;
        if (folder == null && noImport) {
            folder =
                    Config.data()
                            .resolve("restore")
                            .resolve(name + "-" + System.currentTimeMillis());
        }
        if (folder != null) {
            folder = folder.toAbsolutePath().normalize();
            requireFresh(folder);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("target", from);
        if (folder != null) {
            body.put("into", folder.toString());
        }
        if (!noImport) {
            body.put("import", true);
            body.put("pool", name);
        }
        if (poolId != null) {
            body.put("poolId", poolId);
        }
        if (generation != null) {
            body.put("generation", generation);
        }
        JsonNode answer =
                longPost(
                        noImport
                                ? "restoring pool " + name
                                : "restoring pool "
                                        + name
                                        + " (fetch, check, adopt, import, scrub)",
                        null,
                        endpoints.syncs(),
                        "/restores",
                        body);
        printLine(answer, noImport ? this::filesLine : this::importLine);
        return 0;
    }

    static void checkGeneration(Long generation) {
        if (generation != null && generation < 1) {
            throw new CliException("--generation counts from 1", CliException.BAD_INPUT);
        }
    }

    private static void requireFresh(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        if (!Files.isDirectory(folder)) {
            throw new CliException(folder + " is not a folder", CliException.BAD_INPUT);
        }
        try (var entries = Files.list(folder)) {
            if (entries.findAny().isPresent()) {
                throw new CliException(
                        folder + " is not empty; restore into a fresh folder",
                        CliException.CONFLICT);
            }
        } catch (java.io.IOException e) {
            throw new CliException("cannot read " + folder + ": " + e.getMessage());
        }
    }

    private String filesLine(JsonNode answer) {
        int chunks = answer.path("chunks").size();
        int damaged = answer.path("damaged").size();
        int missing = answer.path("missing").size();
        return String.format(
                "pool %s generation %d restored into %s: %d chunks, %d intact, %d damaged,"
                        + " %d missing%s",
                name,
                answer.path("generation").asLong(),
                answer.path("into").asText(),
                chunks,
                chunks - damaged - missing,
                damaged,
                missing,
                (damaged > 0 ? "; damaged: " + ids(answer.path("damaged")) : "")
                        + (missing > 0 ? "; missing: " + ids(answer.path("missing")) : ""));
    }

    /** What came back, what was rebuilt, what the scrub repaired, and how to mount it. */
    private String importLine(JsonNode answer) {
        JsonNode imported = answer.path("imported");
        java.util.Set<String> rebuilt = new java.util.TreeSet<>();
        imported.path("rebuilt").forEach(r -> rebuilt.add(r.path("chunkId").asText()));
        java.util.Set<String> scrubbed = new java.util.TreeSet<>();
        imported.path("repaired")
                .forEach(
                        id -> {
                            if (!rebuilt.contains(id.asText())) {
                                scrubbed.add(id.asText());
                            }
                        });
        return String.format(
                "pool %s (%s) restored from generation %d and imported %s: %d chunks, %d intact,"
                        + " %d rebuilt%s, %d repaired by scrub%s; mount it: szpool mount %s /mnt/%s",
                name,
                answer.path("poolId").asText(),
                answer.path("generation").asLong(),
                imported.path("health").asText(),
                answer.path("chunks").size(),
                answer.path("chunks").size()
                        - answer.path("damaged").size()
                        - answer.path("missing").size(),
                rebuilt.size(),
                rebuilt.isEmpty() ? "" : " (" + String.join(" ", rebuilt) + ")",
                scrubbed.size(),
                scrubbed.isEmpty() ? "" : " (" + String.join(" ", scrubbed) + ")",
                name,
                name);
    }

    private static String ids(JsonNode list) {
        StringBuilder b = new StringBuilder();
        list.forEach(id -> b.append(b.length() == 0 ? "" : " ").append(id.asText()));
        return b.toString();
    }
}
