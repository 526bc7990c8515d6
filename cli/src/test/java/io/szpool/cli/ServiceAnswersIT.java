package io.szpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.cli.SzpoolCliTest.Run;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.Ports;
import io.szpool.testing.ProjectLayout;
import io.szpool.testing.ServiceProcess;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The commands against a real, packaged pool-service (with the broker of testing/): what the
 * service refuses reaches the user as one line and the exit code of its HTTP status.
 */
class ServiceAnswersIT {
    static ServiceProcess pools;
    static String poolUrl;
    static final String NOWHERE = "http://127.0.0.1:" + Ports.free();

    @BeforeAll
    static void poolService() {
        String host = "cli-" + UUID.randomUUID().toString().substring(0, 8);
        Path data = ProjectLayout.target().resolve("cli-it").resolve(host);
        pools =
                ServiceProcess.start(
                        "pool-service",
                        host + "-pool",
                        Map.of(
                                "kafka.bootstrap.servers",
                                KafkaBroker.shared().bootstrapServers(),
                                "szpool.host-id",
                                host,
                                "szpool.pool.data-dir",
                                data.toString(),
                                "szpool.pool.nbd.port",
                                "0",
                                // No crypto-device-service: nothing here gets as far as chunks.
                                "szpool.pool.device-service-url",
                                NOWHERE));
        poolUrl = "http://127.0.0.1:" + pools.port();
    }

    @AfterAll
    static void stop() {
        if (pools != null) {
            pools.close();
        }
    }

    @Test
    void anUnknownPoolIsOneLineNamingItWithExitCode4() {
        String name = "nosuch-" + UUID.randomUUID().toString().substring(0, 8);
        for (String[] args :
                new String[][] {
                    {"pool", "status", name},
                    {"pool", "status", name, "--field", "health"},
                    {"pool", "grow", name},
                    {"pool", "scrub", name},
                    {"pool", "export", name},
                    // The sync commands ask pool-service for the pool's id first: sync-service,
                    // which is nowhere, is never reached.
                    {"sync", "now", name, "--sync-url", NOWHERE},
                    {"sync", "status", name, "--sync-url", NOWHERE},
                    {"sync", "verify", name, "--sync-url", NOWHERE},
                    {"mount", name, ProjectLayout.target().resolve("cli-it/mnt").toString()}
                }) {
            String[] withUrl = java.util.Arrays.copyOf(args, args.length + 2);
            withUrl[args.length] = "--pool-url";
            withUrl[args.length + 1] = poolUrl;
            Run r = SzpoolCliTest.run(withUrl);
            String what = String.join(" ", args) + ": " + r.err();
            assertEquals(CliException.NOT_FOUND, r.exit(), what);
            assertEquals(1, r.err().lines().count(), what);
            assertTrue(r.err().startsWith("szpool: "), what);
            assertTrue(r.err().contains(name), what);
            assertTrue(r.err().contains("(pool-service, HTTP 404)"), what);
            assertEquals("", r.out(), what);
        }
    }

    @Test
    void whatOnlyTheServiceKnowsIsRefusedAsBadInputInOneLine() {
        // 1 MiB chunks: the CLI reads the size; pool-service knows its minimum (64 MiB).
        Run r =
                SzpoolCliTest.run(
                        "pool", "create", "tiny", "--chunk-size", "1M", "--pool-url", poolUrl);
        assertEquals(CliException.BAD_INPUT, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("chunkSizeBytes must be"), r.err());
        assertTrue(r.err().contains("(pool-service, HTTP 400)"), r.err());
        Run listed = SzpoolCliTest.run("pool", "list", "--pool-url", poolUrl, "--field", "name");
        assertEquals(0, listed.exit(), listed.err());
        assertEquals("", listed.out(), "nothing was created");
    }

    @Test
    void anEmptyHostListsOnlyTheHeader() {
        Run r = SzpoolCliTest.run("pool", "list", "--pool-url", poolUrl, "--state", "imported");
        assertEquals(0, r.exit(), r.err());
        assertEquals(1, r.out().lines().count(), r.out());
        assertTrue(r.out().startsWith("NAME "), r.out());
        Run json = SzpoolCliTest.run("pool", "list", "--pool-url", poolUrl, "--json");
        assertEquals("[]", json.out().strip());
    }
}
