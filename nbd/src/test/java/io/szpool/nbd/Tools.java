package io.szpool.nbd;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Finding, running and waiting for the external NBD tools the interop tests use. */
final class Tools {
    private Tools() {}

    static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    static void assumeOnPath(String... commands) {
        for (String command : commands) {
            assumeTrue(onPath(command), command + " is not installed; skipping");
        }
    }

    /** Output and exit status of a finished command. */
    record Result(int exitCode, String output) {}

    /** Runs a command to completion (stdout and stderr merged), killing it after the timeout. */
    static Result run(Duration timeout, List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[][] output = new byte[1][];
        Thread drain =
                new Thread(
                        () -> {
                            try {
                                output[0] = process.getInputStream().readAllBytes();
                            } catch (IOException e) {
                                output[0] = new byte[0];
                            }
                        });
        drain.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            drain.join();
            throw new AssertionError(command + " did not finish within " + timeout);
        }
        drain.join();
        return new Result(process.exitValue(), new String(output[0], StandardCharsets.UTF_8));
    }

    static Result run(String... command) throws Exception {
        return run(Duration.ofMinutes(3), List.of(command));
    }

    /** Runs a command and fails the test with its output unless it exits with 0. */
    static String check(String... command) throws Exception {
        Result result = run(command);
        if (result.exitCode() != 0) {
            throw new AssertionError(
                    String.join(" ", command)
                            + " exited "
                            + result.exitCode()
                            + ":\n"
                            + result.output());
        }
        return result.output();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Waits until something accepts connections on the loopback port, or the process died. */
    static void awaitListening(int port, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new AssertionError("server exited with " + process.exitValue());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("nothing listens on port " + port);
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
