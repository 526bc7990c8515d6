package io.szpool.pool.driver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a system command (the {@code zpool} tool) the way the zfs driver needs: argument vector, no
 * shell, stdin closed, a timeout after which the command is killed, and stdout / stderr / exit code
 * kept. Output goes to temporary files rather than pipes, so a command that writes a lot can never
 * block on a pipe nobody reads.
 */
public final class CommandRunner {
    private final Duration timeout;

    public CommandRunner(Duration timeout) {
        this.timeout = timeout;
    }

    /** What a finished command said. */
    public record Output(int exitCode, String stdout, String stderr) {}

    /** Runs the command; a failure to start, a timeout or a non-zero exit is a CommandException. */
    public Output run(List<String> command) throws CommandException {
        String line = String.join(" ", command);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("szpool-cmd", ".out");
            err = Files.createTempFile("szpool-cmd", ".err");
            Process process;
            try {
                process =
                        new ProcessBuilder(command)
                                .redirectInput(
                                        ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                                .redirectOutput(out.toFile())
                                .redirectError(err.toFile())
                                .start();
            } catch (IOException e) {
                throw new CommandException(line, -1, "", "cannot run it: " + e.getMessage());
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new CommandException(line, -1, "", "no answer within " + timeout);
            }
            Output result =
                    new Output(
                            process.exitValue(),
                            Files.readString(out, StandardCharsets.UTF_8),
                            Files.readString(err, StandardCharsets.UTF_8));
            if (result.exitCode() != 0) {
                throw new CommandException(
                        line, result.exitCode(), result.stdout(), result.stderr());
            }
            return result;
        } catch (CommandException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandException(line, -1, "", "interrupted");
        } catch (IOException e) {
            throw new CommandException(line, -1, "", "cannot keep its output: " + e.getMessage());
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // A temporary file left in /tmp is harmless.
            }
        }
    }

    /** A command that failed; the message quotes the command line, exit code and stderr. */
    public static final class CommandException extends IOException {
        private final int exitCode;
        private final String stderr;

        CommandException(String command, int exitCode, String stdout, String stderr) {
            super(
                    command
                            + (exitCode >= 0 ? " exited with " + exitCode : " failed")
                            + (stderr.isBlank() && stdout.isBlank()
                                    ? ""
                                    : ": " + (stderr.isBlank() ? stdout : stderr).strip()));
            this.exitCode = exitCode;
            this.stderr = stderr;
        }

        /** The exit code, or -1 when the command did not start, timed out or was interrupted. */
        public int exitCode() {
            return exitCode;
        }

        public String stderr() {
            return stderr;
        }
    }
}
