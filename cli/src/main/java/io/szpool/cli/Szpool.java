package io.szpool.cli;

import java.io.PrintWriter;
import picocli.AutoComplete.GenerateCompletion;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code szpool} command: the entry point and the one place that turns failures into exit
 * codes.
 */
@Command(
        name = "szpool",
        mixinStandardHelpOptions = true,
        version = "szpool 0.1.0",
        description = "Encrypted, RAID-Z2-protected chunk pools that back up as opaque files.",
        footer = {
            "",
            "Exit status: 0 success, 1 failure, 2 bad input, 3 a service or Kafka unreachable,"
                    + " 4 not found, 5 conflict (wrong state, busy).",
            "Services: flags (--pool-url...), else SZPOOL_POOL_URL, SZPOOL_DEVICE_URL,"
                    + " SZPOOL_SYNC_URL, SZPOOL_CATALOG_URL, SZPOOL_KAFKA, else the file"
                    + " $SZPOOL_CONFIG (written by `szpool up` as DATA/szpool.properties), else"
                    + " 127.0.0.1 and SPEC.md's ports."
        },
        subcommands = {
            PoolCommand.class,
            ChunkCommand.class,
            SyncCommand.class,
            RestoreCommand.class,
            MountCommand.Mount.class,
            MountCommand.Umount.class,
            MountCommand.Resize.class,
            KeyCommand.class,
            EventsCommand.class
        })
public final class Szpool implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        try {
            Config.load();
        } catch (CliException e) {
            System.err.println("szpool: " + e.getMessage());
            System.exit(e.exitCode());
        }
        System.exit(commandLine().execute(args));
    }

    /** The command line with szpool's error handling; tests run commands through this. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Szpool());
        // picocli's own name for it, and the one a user guesses first.
        cli.addSubcommand("generate-completion", new GenerateCompletion(), "completion");
        cli.setExecutionExceptionHandler(
                (e, commandLine, parseResult) -> {
                    PrintWriter err = commandLine.getErr();
                    err.println("szpool: " + message(e));
                    err.flush();
                    return e instanceof CliException c ? c.exitCode() : 1;
                });
        return cli;
    }

    private static String message(Exception e) {
        if (e instanceof CliException) {
            return e.getMessage();
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
