package io.szpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.crypto.ChunkKeys;
import io.szpool.crypto.KeySlot;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.XtsKey;
import io.szpool.testing.Ports;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command as a user runs it: arguments in, text and an exit code out. */
class SzpoolCliTest {
    static final String CHUNK = "3f2a9c0d1e5b47a8b6c1d2e3f4a5b6c7";
    static final String POOL = "demo";

    @TempDir static Path data;
    static Path passphrase;
    static String expectedKey;

    record Run(int exit, String out, String err) {}

    @BeforeAll
    static void hostWithOneChunk() throws Exception {
        passphrase = data.resolve("passphrase");
        Files.writeString(passphrase, "a long operator passphrase\n");
        Files.createDirectories(data.resolve("keys"));
        Files.createDirectories(data.resolve("records"));
        try (MasterKey master = MasterKey.generate();
                XtsKey key = ChunkKeys.derive(master, CHUNK)) {
            KeySlot.seal(master, "a long operator passphrase".toCharArray())
                    .write(data.resolve("keys/" + POOL + ".slot"));
            expectedKey = key.hex();
        }
        Files.writeString(
                data.resolve("records/" + CHUNK + ".json"),
                "{\"chunkId\":\"" + CHUNK + "\",\"poolId\":\"" + POOL + "\"}");
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Szpool.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void keyDumpPrintsTheChunksXtsKeyForCryptsetup() {
        Run r =
                run(
                        "key",
                        "dump",
                        CHUNK,
                        "--data",
                        data.toString(),
                        "--passphrase-file",
                        passphrase.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(expectedKey, r.out().trim());
        assertEquals(128, r.out().trim().length(), "512 bits in hex");
    }

    @Test
    void keyDumpWithAWrongPassphraseFailsClearly() throws Exception {
        Path wrong = data.resolve("wrong");
        Files.writeString(wrong, "not it\n");
        Run r =
                run(
                        "key",
                        "dump",
                        CHUNK,
                        "--data",
                        data.toString(),
                        "--passphrase-file",
                        wrong.toString());
        assertEquals(1, r.exit());
        assertEquals("", r.out(), "no key material on failure");
        assertTrue(
                r.err().startsWith("szpool: the passphrase does not open the key slot"), r.err());
        assertEquals(1, r.err().lines().count(), "one line");
    }

    @Test
    void keyDumpOfAnUnknownChunkSaysWhatIsMissing() {
        Run r =
                run(
                        "key",
                        "dump",
                        "ffff",
                        "--data",
                        data.toString(),
                        "--passphrase-file",
                        passphrase.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("no chunk ffff in " + data), r.err());
    }

    @Test
    void keyDumpRefusesAPathAsChunkId() {
        Run r =
                run(
                        "key",
                        "dump",
                        "../../etc/passwd",
                        "--data",
                        data.toString(),
                        "--passphrase-file",
                        passphrase.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("not a valid chunk id"), r.err());
    }

    @Test
    void keyDumpOfADamagedSlotFailsClearly() throws Exception {
        Path slot = data.resolve("short.slot");
        Files.write(slot, new byte[7]);
        Run r =
                run(
                        "key",
                        "dump",
                        CHUNK,
                        "--pool",
                        POOL,
                        "--slot",
                        slot.toString(),
                        "--passphrase-file",
                        passphrase.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("is damaged"), r.err());
    }

    @Test
    void unknownCommandsAndOptionsAreUsageErrors() {
        Run r = run("frobnicate");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("Unmatched argument"), r.err());
        assertEquals(2, run("chunk", "list", "--no-such-flag").exit());
    }

    @Test
    void helpOnEveryCommand() {
        for (String[] args :
                new String[][] {
                    {"--help"},
                    {"key", "--help"},
                    {"key", "dump", "--help"},
                    {"chunk", "list", "--help"},
                    {"events", "--help"},
                    {"pool", "--help"},
                    {"pool", "create", "--help"},
                    {"pool", "grow", "--help"},
                    {"pool", "list", "--help"},
                    {"pool", "status", "--help"},
                    {"pool", "scrub", "--help"},
                    {"pool", "export", "--help"},
                    {"pool", "import", "--help"},
                    {"sync", "--help"},
                    {"sync", "now", "--help"},
                    {"sync", "status", "--help"},
                    {"sync", "verify", "--help"},
                    {"restore", "--help"},
                    {"mount", "--help"},
                    {"umount", "--help"},
                    {"resize", "--help"}
                }) {
            Run r = run(args);
            assertEquals(0, r.exit(), String.join(" ", args));
            assertTrue(r.out().contains("Usage: szpool"), r.out());
        }
        assertTrue(run("key", "dump", "--help").out().contains("cryptsetup open --type plain"));
    }

    @Test
    void chunkListWithoutACatalogSaysSoInOneLine() {
        Run r = run("chunk", "list", "--catalog", "http://127.0.0.1:" + Ports.free());
        assertEquals(CliException.UNREACHABLE, r.exit());
        assertTrue(
                r.err().startsWith("szpool: cannot reach the catalog-service at http://127.0.0.1:"),
                r.err());
        assertEquals(1, r.err().lines().count());
    }

    @Test
    void everyServiceCommandWithoutItsServiceSaysSoInOneLineWithExitCode3() {
        String nowhere = "http://127.0.0.1:" + Ports.free();
        for (String[] args :
                new String[][] {
                    {"pool", "list", "--pool-url", nowhere},
                    {"pool", "status", "tank", "--pool-url", nowhere},
                    {"pool", "create", "tank", "--pool-url", nowhere},
                    {"pool", "grow", "tank", "--pool-url", nowhere},
                    {"pool", "scrub", "tank", "--pool-url", nowhere},
                    {"pool", "export", "tank", "--pool-url", nowhere},
                    {"pool", "import", "tank", "--pool-url", nowhere},
                    {"sync", "now", "tank", "--pool-url", nowhere},
                    {"sync", "status", "tank", "--pool-url", nowhere},
                    {"sync", "verify", "tank", "--pool-url", nowhere},
                    {
                        "restore",
                        "tank",
                        "--from",
                        "/nowhere",
                        "--sync-url",
                        nowhere,
                        "--into",
                        data.resolve("fresh").toString()
                    },
                    {"mount", "tank", data.toString(), "--pool-url", nowhere}
                }) {
            Run r = run(args);
            assertEquals(CliException.UNREACHABLE, r.exit(), String.join(" ", args) + r.err());
            assertTrue(r.err().startsWith("szpool: cannot reach the "), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
    }

    @Test
    void badInputIsRefusedBeforeAnyServiceIsAsked() {
        // Every service address points nowhere: a bad-input answer proves nothing was sent.
        String nowhere = "http://127.0.0.1:" + Ports.free();
        String[][] cases = {
            {"pool", "create", "no/slash", "--pool-url", nowhere},
            {"pool", "create", "tank", "--width", "3", "--pool-url", nowhere},
            {"pool", "create", "tank", "--vdevs", "0", "--pool-url", nowhere},
            {"pool", "create", "tank", "--chunk-size", "lots", "--pool-url", nowhere},
            {"pool", "create", "tank", "--chunk-size", "99999999P", "--pool-url", nowhere},
            {"pool", "create", "tank", "--width", "six"},
            {"pool", "grow", "tank", "--vdevs", "-1", "--pool-url", nowhere},
            {"pool", "status", "../etc", "--pool-url", nowhere},
            {"pool", "import"},
            {"sync", "now", "tank", "--bwlimit", "-5", "--pool-url", nowhere},
            {"sync", "now", "a b", "--pool-url", nowhere},
            {"restore", "tank"},
            {"restore", "tank", "--from", "/x", "--generation", "0", "--sync-url", nowhere},
            {"restore", "tank", "--from", "/x", "--no-import=maybe", "--sync-url", nowhere},
            {"restore", "tank", "--from", " ", "--sync-url", nowhere},
            {
                "restore",
                "tank",
                "--from",
                "/x",
                "--into",
                passphrase.toString(),
                "--sync-url",
                nowhere
            },
            {"restore", "no/slash", "--from", "/x", "--no-import", "--sync-url", nowhere},
            {"mount", "tank", data.toString(), "--fs", "ntfs", "--pool-url", nowhere},
            {"mount", "tank", passphrase.toString(), "--pool-url", nowhere},
            {"mount", "tank"},
            {"events", "--idle", "soon"},
            {"events", "--idle", "-PT1S", "--kafka", "127.0.0.1:" + Ports.free()},
            {"pool", "create", "tank", "--chunk-size", "12X", "--pool-url", nowhere},
            {"pool", "create", "tank", "--chunk-size", "1Gi", "--pool-url", nowhere},
            {"pool", "create", "tank", "--chunk-size", "0", "--pool-url", nowhere},
            {"pool", "grow", "tank", "--vdevs", "0", "--pool-url", nowhere},
            {"pool", "list", "--state", "online", "--pool-url", nowhere},
            {"pool", "scrub", "a b", "--pool-url", nowhere},
            {"pool", "export", "../x", "--pool-url", nowhere},
            {"pool", "lst"},
            {"chunk", "list", "--state", "lost", "--catalog", nowhere},
            {"sync", "verify", "tank", "--generation", "0", "--pool-url", nowhere},
            {"sync", "status", "tank", "extra", "--pool-url", nowhere},
            {"key", "dump"},
            {"key", "dump", "a/b", "--data", data.toString()},
            {"umount"},
            {"resize", "a", "b"}
        };
        for (String[] args : cases) {
            Run r = run(args);
            assertEquals(CliException.BAD_INPUT, r.exit(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().startsWith("szpool: "), r.err());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
            assertEquals("", r.out(), String.join(" ", args));
        }
    }

    @Test
    void aWrongCommandLineIsOneLineThatNamesTheHelpToRead() {
        Run r = run("pool", "create", "tank", "--widht", "6");
        assertEquals(CliException.BAD_INPUT, r.exit());
        assertEquals(
                "szpool: Unknown options: '--widht', '6' (did you mean --width?); see szpool pool"
                        + " create --help",
                r.err().strip());
        Run missing = run("restore", "tank");
        assertEquals(
                "szpool: Missing required option: '--from=<from>'; see szpool restore --help",
                missing.err().strip());
    }

    @Test
    void aServiceAddressThatIsNoHttpUrlIsBadInputNotUnreachable() {
        for (String[] args :
                new String[][] {
                    {"pool", "list", "--pool-url", "pool-host:8081"},
                    {"pool", "status", "tank", "--pool-url", "ftp://127.0.0.1/"},
                    {"chunk", "list", "--catalog", "catalog"},
                    {"sync", "status", "tank", "--pool-url", "http:///pools"},
                    {"restore", "tank", "--from", "/x", "--sync-url", "localhost"},
                    {"pool", "list", "--pool-url", "http://[::1"}
                }) {
            Run r = run(args);
            assertEquals(CliException.BAD_INPUT, r.exit(), String.join(" ", args) + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(
                    r.err().contains("is not an http:// or https:// address with a host")
                            || r.err().contains("Invalid value for option '--pool-url'"),
                    r.err());
        }
    }

    @Test
    void umountAndResizeOfAFolderSzpoolDidNotMountAreNotFound() {
        for (String cmd : new String[] {"umount", "resize"}) {
            Run r = run(cmd, data.toString());
            assertEquals(CliException.NOT_FOUND, r.exit(), r.err());
            assertTrue(r.err().contains("is not mounted by szpool"), r.err());
        }
    }

    @Test
    void restoreRefusesAFolderThatIsNotFresh() {
        Run r = run("restore", "tank", "--from", "/x", "--into", data.toString());
        assertEquals(CliException.CONFLICT, r.exit(), r.err());
        assertTrue(r.err().contains("is not empty; restore into a fresh folder"), r.err());
    }

    @Test
    void sizesReadLikeZfsAndPrintLikeZpoolList() {
        assertEquals(64L << 20, Sizes.parse("64M"));
        assertEquals(1L << 30, Sizes.parse("1G"));
        assertEquals(1L << 30, Sizes.parse("1GiB"));
        assertEquals(4096, Sizes.parse("4096"));
        assertEquals("248.2M", Sizes.human(260_253_696L));
        assertEquals("1G", Sizes.human(1L << 30));
        assertEquals(12, Sizes.parse("12B"));
        assertEquals(2L << 10, Sizes.parse("2kb"));
        for (String bad : new String[] {"12X", "12I", "1iB", "1GG", "G", "-1G", "1.5G", ""}) {
            CliException e = assertThrows(CliException.class, () -> Sizes.parse(bad), bad);
            assertEquals(CliException.BAD_INPUT, e.exitCode());
        }
    }

    @Test
    void completionScriptIsGenerated() {
        Run r = run("generate-completion");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("complete -F"), "a bash completion script");
    }
}
