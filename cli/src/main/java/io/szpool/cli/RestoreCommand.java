package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Fetches a pool's generation from a sync target with only the target and the passphrase. */
@Command(
        name = "restore",
        mixinStandardHelpOptions = true,
        description = {
            "Fetches a generation of a pool from a sync target into a fresh folder laid out as a"
                    + " crypto-device data folder (chunks, key slot, records).",
            "Damaged or missing chunks are reported; RAID-Z2 rebuilds up to two per vdev."
        })
final class RestoreCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Endpoints endpoints;

    @Parameters(paramLabel = "NAME", description = "The pool, for the messages.")
    String name;

    @Option(names = "--from", required = true, description = "The sync target.")
    String from;

    @Option(names = "--generation", description = "Which generation (default: the latest).")
    Long generation;

    @Option(
            names = "--pool-id",
            description = "The pool's id, when the target holds generations of several pools.")
    String poolId;

    @Option(names = "--into", description = "A fresh folder (default: DATA/restore/NAME-<time>).")
    Path into;

    @Option(names = "--json", description = "The service's JSON answer.")
    boolean json;

    @Override
    public Integer call() {
        PoolCommand.checkName(name);
        if (generation != null && generation < 1) {
            throw new CliException("--generation counts from 1", CliException.BAD_INPUT);
        }
        Path folder =
                (into != null
                                ? into
                                : Config.data()
                                        .resolve("restore")
                                        .resolve(name + "-" + System.currentTimeMillis()))
                        .toAbsolutePath()
                        .normalize();
        if (Files.exists(folder)) {
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
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("target", from);
        body.put("into", folder.toString());
        if (poolId != null) {
            body.put("poolId", poolId);
        }
        if (generation != null) {
            body.put("generation", generation);
        }
        JsonNode answer =
                Progress.run(
                        spec.commandLine().getErr(),
                        "restoring pool " + name,
                        null,
                        () -> endpoints.syncs().post("/restores", body));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(answer.toString());
        } else {
            int chunks = answer.path("chunks").size();
            int damaged = answer.path("damaged").size();
            int missing = answer.path("missing").size();
            out.printf(
                    "pool %s generation %d restored into %s: %d chunks, %d intact, %d damaged,"
                            + " %d missing%s%n",
                    name,
                    answer.path("generation").asLong(),
                    folder,
                    chunks,
                    chunks - damaged - missing,
                    damaged,
                    missing,
                    (damaged > 0 ? "; damaged: " + ids(answer.path("damaged")) : "")
                            + (missing > 0 ? "; missing: " + ids(answer.path("missing")) : ""));
        }
        out.flush();
        return 0;
    }

    private static String ids(JsonNode list) {
        StringBuilder b = new StringBuilder();
        list.forEach(id -> b.append(b.length() == 0 ? "" : " ").append(id.asText()));
        return b.toString();
    }
}
