package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Chunk commands, answered by the fleet catalog. */
@Command(
        name = "chunk",
        description = "Chunks of the fleet, as the catalog knows them.",
        mixinStandardHelpOptions = true,
        subcommands = ChunkCommand.ListChunks.class)
final class ChunkCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists chunks.")
    static final class ListChunks implements Runnable {
        @Spec CommandSpec spec;

        @Option(names = "--pool", description = "Only the chunks of this pool id.")
        String pool;

        @Option(
                names = "--state",
                description = "provisioned, attached, in-pool, faulted or destroyed.")
        String state;

        @Mixin Endpoints endpoints;

        @Option(names = "--json", description = "The catalog's JSON answer, unchanged.")
        boolean json;

        @Override
        public void run() {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("pool", pool);
            query.put("state", state);
            JsonNode chunks = endpoints.catalogs().get("/api/chunks", query);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(chunks.toString());
            } else {
                out.printf(
                        "%-32s  %-20s  %-12s  %-11s  %8s  %s%n",
                        "CHUNK", "POOL", "HOST", "STATE", "SIZE", "DEVICE");
                for (JsonNode c : chunks) {
                    out.printf(
                            "%-32s  %-20s  %-12s  %-11s  %8s  %s%n",
                            c.path("chunkId").asText(),
                            c.path("poolId").asText(),
                            c.path("hostId").asText(),
                            c.path("state").asText(),
                            Sizes.human(c.path("sizeBytes").asLong()),
                            c.path("deviceAddress").isNull()
                                    ? "-"
                                    : c.path("deviceAddress").asText());
                }
            }
            out.flush();
        }
    }
}
