package io.szpool.cli;

import java.io.PrintWriter;
import picocli.AutoComplete.GenerateCompletion;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

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
            EventsCommand.class,
            LocalStack.Up.class,
            LocalStack.Down.class
        })
public final class Szpool extends CommandGroup {

    public static void main(String[] args) {
        try {
            Config.load();
        } catch (CliException e) {
            PrintWriter err = new PrintWriter(System.err, true);
            System.exit(fail(err, e.getMessage(), e.exitCode()));
        }
        System.exit(commandLine().execute(args));
    }

    /** The command line with szpool's error handling; tests run commands through this. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Szpool());
        // picocli's own name for it, and the one a user guesses first.
        cli.addSubcommand("generate-completion", new GenerateCompletion(), "completion");
        cli.setExecutionExceptionHandler(
                (e, commandLine, parseResult) ->
                        e instanceof CliException c
                                ? fail(commandLine.getErr(), c.getMessage(), c.exitCode())
                                : fail(commandLine.getErr(), message(e), CliException.FAILED));
        cli.setParameterExceptionHandler(Szpool::usageError);
        return cli;
    }

    /**
     * A wrong command line: one line saying what is wrong and where the help is, not the whole
     * usage text, which buries the line that matters.
     */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine where = e.getCommandLine();
        StringBuilder line = new StringBuilder(e.getMessage());
        if (e instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            line.append(" (did you mean ")
                    .append(String.join(" or ", u.getSuggestions()))
                    .append("?)");
        }
        line.append("; see ").append(where.getCommandSpec().qualifiedName()).append(" --help");
        return fail(where.getErr(), line.toString(), CliException.BAD_INPUT);
    }

    /** Every failure reaches the user the same way: one line on stderr, and an exit code. */
    static int fail(PrintWriter err, String message, int exitCode) {
        err.println("szpool: " + message);
        err.flush();
        return exitCode;
    }

    private static String message(Exception e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
