package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Chunk commands, answered by the fleet catalog. */
@Command(
        name = "chunk",
        description = "Chunks of the fleet, as the catalog knows them.",
        mixinStandardHelpOptions = true,
        subcommands = ChunkCommand.ListChunks.class)
final class ChunkCommand extends CommandGroup {
    /** The states the catalog keeps, in its own words. */
    static final List<String> STATES =
            List.of("provisioned", "attached", "in-pool", "faulted", "destroyed");

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists chunks.")
    static final class ListChunks extends ServiceCommand {
        @Option(names = "--pool", description = "Only the chunks of this pool id.")
        String pool;

        @Option(
                names = "--state",
                description = "provisioned, attached, in-pool, faulted or destroyed.")
        String state;

        @Override
        public Integer call() {
            checkOneOf("--state", state, STATES);
            Map<String, String> query = new LinkedHashMap<>();
            query.put("pool", pool);
            query.put("state", state);
            print(endpoints.catalogs().get("/api/chunks", query), ListChunks::table);
            return 0;
        }

        private static void table(PrintWriter out, JsonNode chunks) {
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
                        c.path("deviceAddress").isNull() ? "-" : c.path("deviceAddress").asText());
            }
        }
    }
}
