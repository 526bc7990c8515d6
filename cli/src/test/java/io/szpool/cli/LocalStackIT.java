package io.szpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar szpool-cli.jar up|down} as a user runs it: the packaged jar hands the line to
 * the checkout's deploy/local scripts, and outside a checkout says what to do instead.
 */
class LocalStackIT {
    static final Path JAR = Path.of("target/szpool-cli.jar").toAbsolutePath();

    @TempDir Path dir;

    record Run(int exit, String out, String err) {}

    static Run java(Path jar, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("java", "-jar", jar.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "szpool did not end");
        return new Run(p.exitValue(), out, err);
    }

    @Test
    void theHelpListsUpAndDown() throws Exception {
        Run r = java(JAR, "--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("  up "), r.out());
        assertTrue(r.out().contains("  down "), r.out());
    }

    @Test
    void upPassesItsFlagsToTheCheckoutsScript() throws Exception {
        Run r = java(JAR, "up", "--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Usage: szpool up [--data DIR]"), r.out());
        assertTrue(r.out().contains("--no-pool"), r.out());
    }

    @Test
    void downOfAFolderWithoutAStackFailsWithTheScriptsLineAndCode() throws Exception {
        Path missing = dir.resolve("no-stack-here");
        Run r = java(JAR, "down", "--data", missing.toString());
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals("szpool down: no data folder " + missing + "\n", r.err());
        assertTrue(Files.notExists(missing), "down created the folder it was asked to stop");
    }

    @Test
    void outsideACheckoutUpSaysWhereToRunIt() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("opt/szpool/lib"));
        Path jar = Files.copy(JAR, elsewhere.resolve("szpool-cli.jar"));
        // The jar finds its libraries beside it (its manifest's Class-Path), as an install would.
        Files.createSymbolicLink(elsewhere.resolve("lib"), JAR.resolveSibling("lib"));
        Run r = java(jar, "up", "--no-pool");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals(
                "szpool: szpool up and down run the local stack of a source checkout"
                        + " (deploy/local); this szpool runs from "
                        + jar
                        + ", outside one: run ./szpool up in the checkout\n",
                r.err());
        assertEquals("", r.out());
    }
}
