package io.szpool.device.driver;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs the system commands of the {@code linux} and {@code solaris} drivers: argument vector, no
 * shell, a timeout, and stdout, stderr and exit code collected. Secrets go in on stdin (or in a
 * {@link SecretFile}), never in the argument vector, which error messages quote.
 */
public class CommandRunner {
    /**
     * Own threads for the pipes, not the common pool: a busy or one-thread common pool would read
     * stdout only after the command exits, and a command filling its stderr pipe would hang.
     */
    private static final ExecutorService PIPES =
            Executors.newCachedThreadPool(
                    task -> {
                        Thread thread = new Thread(task, "szpool-command-pipe");
                        thread.setDaemon(true);
                        return thread;
                    });

    private final Duration timeout;

    public CommandRunner(Duration timeout) {
        this.timeout = timeout;
    }

    /** What a finished command said. */
    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs the command and returns whatever it exited with. */
    public Result run(List<String> command, byte[] stdin) throws CommandFailedException {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new CommandFailedException(
                    "cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
        // Both pipes drain on their own threads, so a chatty command cannot block on a full pipe.
        CompletableFuture<byte[]> out = drain(process.getInputStream());
        CompletableFuture<byte[]> err = drain(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        } catch (IOException e) {
            // The command exited without reading its input; its exit code and stderr say why.
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new CommandFailedException(
                        String.join(" ", command) + " did not finish within " + timeout, -1);
            }
            return new Result(
                    process.exitValue(),
                    new String(out.get(), StandardCharsets.UTF_8),
                    new String(err.get(), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CommandFailedException("interrupted while running " + command.get(0), e);
        } catch (ExecutionException e) {
            throw new CommandFailedException(
                    "cannot read the output of " + command.get(0), e.getCause());
        } finally {
            if (stdin != null) {
                Arrays.fill(stdin, (byte) 0);
            }
        }
    }

    /** Runs the command; a non-zero exit becomes an exception quoting its stderr. */
    public Result check(List<String> command, byte[] stdin) throws CommandFailedException {
        Result result = run(command, stdin);
        if (!result.ok()) {
            String stderr = result.stderr().strip();
            throw new CommandFailedException(
                    String.join(" ", command)
                            + " exited with "
                            + result.exitCode()
                            + (stderr.isEmpty() ? "" : ": " + stderr),
                    result.exitCode());
        }
        return result;
    }

    public Result check(String... command) throws CommandFailedException {
        return check(List.of(command), null);
    }

    private static CompletableFuture<byte[]> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try (stream) {
                        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                        stream.transferTo(buffer);
                        return buffer.toByteArray();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                PIPES);
    }
}
