package io.szpool.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code szpool up} and {@code szpool down}: the local stack's scripts ({@code deploy/local}) of
 * the checkout this command was built in. The {@code ./szpool} wrapper runs those scripts without
 * starting Java; these commands put them in the help and the completion script, and make {@code
 * java -jar szpool-cli.jar up} do what {@code ./szpool up} does. The scripts own their flags (they
 * must run before anything is built), so every argument, {@code --help} included, goes to them.
 */
final class LocalStack {
    private LocalStack() {}

    @Command(
            name = "up",
            description = {
                "Starts the whole stack on this machine: Kafka, PostgreSQL, the four services, the"
                        + " pool `szpool` and its sync schedule. Ctrl-C or `szpool down` stops it.",
                "Flags: szpool up --help (--data DIR, --passphrase-file F, --chunk-size,"
                        + " --width, --sync-target, --no-sync, --no-pool, --join, --detach...)."
            })
    static final class Up implements Callable<Integer> {
        @Unmatched List<String> args = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            return run("start", args);
        }
    }

    @Command(
            name = "down",
            description = {
                "Stops the stack of a data folder in order: unmounts, flushes and exports its pools,"
                        + " stops the services, PostgreSQL, then Kafka.",
                "Flags: szpool down --help (--data DIR)."
            })
    static final class Down implements Callable<Integer> {
        @Unmatched List<String> args = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            return run("stop", args);
        }
    }

    /**
     * Runs a deploy/local script on this terminal and answers its exit code. Ctrl-C reaches the
     * script too (same process group), and it stops the stack in order; this JVM waits for that
     * instead of returning the prompt while services are still stopping.
     */
    private static int run(String script, List<String> args) throws Exception {
        Path path = checkout().resolve("deploy/local").resolve(script);
        List<String> command = new ArrayList<>();
        command.add(path.toString());
        command.addAll(args);
        Process process = new ProcessBuilder(command).inheritIO().start();
        Thread waitForScript =
                new Thread(
                        () -> {
                            try {
                                process.waitFor();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        });
        Runtime.getRuntime().addShutdownHook(waitForScript);
        int exit = process.waitFor();
        try {
            Runtime.getRuntime().removeShutdownHook(waitForScript);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C: the hook has waited for the script already.
        }
        return exit;
    }

    /**
     * The checkout: this code runs from {@code ROOT/cli/target/szpool-cli.jar} (or {@code
     * ROOT/cli/target/classes} in the build), three levels under it.
     */
    static Path checkout() {
        CodeSource source = LocalStack.class.getProtectionDomain().getCodeSource();
        Path code;
        try {
            code = source == null ? null : Path.of(source.getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException e) {
            code = null;
        }
        Path root = code;
        for (int up = 0; up < 3 && root != null; up++) {
            root = root.getParent();
        }
        if (root == null || !Files.isExecutable(root.resolve("deploy/local/start"))) {
            throw new CliException(
                    "szpool up and down run the local stack of a source checkout (deploy/local);"
                            + " this szpool runs from "
                            + (code == null ? "an unknown place" : code)
                            + ", outside one: run ./szpool up in the checkout");
        }
        return root;
    }
}
