package io.szpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
                    {"events", "--help"}
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
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("szpool: cannot reach http://127.0.0.1:"), r.err());
        assertEquals(1, r.err().lines().count());
    }

    @Test
    void completionScriptIsGenerated() {
        Run r = run("generate-completion");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("complete -F"), "a bash completion script");
    }
}
