package io.szpool.sync.remote;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Runs the system rsync against one target: adds the transport options (SSH command, daemon
 * password file, timeouts, bandwidth limit), retries transient failures with backoff, and reads
 * rsync's statistics. Credentials only ever appear as file names on the command line.
 */
public final class Rsync {
    private static final Logger LOG = Logger.getLogger(Rsync.class);

    /**
     * Exit statuses worth another try: protocol startup (daemon not up), socket and stream errors,
     * timeouts, SSH's 255. File errors (11, 23) and usage errors are not.
     */
    private static final Set<Integer> TRANSIENT = Set.of(5, 10, 12, 30, 35, 255);

    private static final Pattern LITERAL = Pattern.compile("^Literal data: ([\\d,]+) bytes");
    private static final Pattern MATCHED = Pattern.compile("^Matched data: ([\\d,]+) bytes");
    private static final Pattern SENT = Pattern.compile("^Total bytes sent: ([\\d,]+)");
    private static final Pattern RECEIVED = Pattern.compile("^Total bytes received: ([\\d,]+)");

    /** Marks our per-file lines, so they are told apart from rsync's own messages. */
    static final String FILE_LINE = "szpool-file|";

    private final Target target;
    private final RsyncOptions options;
    private volatile Process current;
    private volatile boolean cancelled;

    public Rsync(Target target, RsyncOptions options) {
        this.target = target;
        this.options = options;
    }

    /**
     * What one rsync call did.
     *
     * @param literalBytes file data sent as is (the changed regions)
     * @param matchedBytes file data the receiver rebuilt from its basis file
     * @param bytesSent everything the sender put on the wire, protocol included
     * @param fileBytes bytes sent per file (rsync's {@code %b}), by path relative to the source
     */
    public record Result(
            long literalBytes,
            long matchedBytes,
            long bytesSent,
            long bytesReceived,
            Map<String, Long> fileBytes,
            List<String> output) {}

    public Target target() {
        return target;
    }

    public RsyncOptions options() {
        return options;
    }

    /** Runs {@code rsync <transport options> <args>}, retrying transient failures. */
    public Result run(List<String> args) throws RsyncException, InterruptedException {
        return run(args, true);
    }

    /** As {@link #run(List)}; {@code transfer} adds the bandwidth limit and per-file lines. */
    public Result run(List<String> args, boolean transfer)
            throws RsyncException, InterruptedException {
        RsyncException last = null;
        long pause = options.backoff().toMillis();
        for (int attempt = 1; attempt <= Math.max(1, options.attempts()); attempt++) {
            if (cancelled) {
                throw new RsyncException(-1, "cancelled");
            }
            try {
                return once(args, transfer);
            } catch (RsyncException e) {
                last = e;
                if (!TRANSIENT.contains(e.exitCode()) || attempt >= options.attempts()) {
                    throw e;
                }
                LOG.warnf(
                        "rsync to %s failed (attempt %d of %d): %s; retrying in %d ms",
                        target.address(), attempt, options.attempts(), e.getMessage(), pause);
                Thread.sleep(pause);
                pause = Math.min(pause * 2, 60_000);
            }
        }
        throw last;
    }

    /** Stops the rsync that is running now and every later call of this instance. */
    public void cancel() {
        cancelled = true;
        Process p = current;
        if (p != null) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private Result once(List<String> args, boolean transfer)
            throws RsyncException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(options.binary());
        command.add("--no-human-readable");
        command.add("--timeout=" + Math.max(1, options.ioTimeout().toSeconds()));
        if (transfer) {
            command.add("--stats");
            command.add("--out-format=" + FILE_LINE + "%n|%b");
            if (options.bwlimitKiB() > 0) {
                command.add("--bwlimit=" + options.bwlimitKiB());
            }
        }
        switch (target.kind()) {
            case DAEMON -> {
                command.add("--contimeout=" + Math.max(1, options.connectTimeout().toSeconds()));
                options.passwordFile().ifPresent(f -> command.add("--password-file=" + f));
            }
            case SSH -> command.add("--rsh=" + sshCommand());
            case LOCAL -> {}
        }
        command.addAll(args);
        LOG.debugf("running %s", command);
        ProcessBuilder builder = new ProcessBuilder(command);
        // A daemon password never comes from the environment we were started with.
        builder.environment().remove("RSYNC_PASSWORD");
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new RsyncException(-1, "cannot run " + options.binary() + ": " + e.getMessage());
        }
        current = process;
        try {
            process.getOutputStream().close();
            CompletableFuture<List<String>> err = drain(process.getErrorStream());
            List<String> out = drain(process.getInputStream()).join();
            int exit = process.waitFor();
            List<String> errors = err.join();
            if (exit != 0) {
                String detail =
                        errors.isEmpty()
                                ? "no message"
                                : String.join(" / ", errors.subList(0, Math.min(3, errors.size())));
                throw new RsyncException(
                        exit,
                        "rsync exited with status "
                                + exit
                                + " ("
                                + describe(exit)
                                + "): "
                                + detail);
            }
            return parse(out);
        } catch (RsyncException e) {
            throw e;
        } catch (IOException e) {
            throw new RsyncException(-1, "rsync I/O: " + e.getMessage());
        } finally {
            current = null;
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }

    private String sshCommand() {
        StringBuilder ssh = new StringBuilder("ssh -o BatchMode=yes");
        ssh.append(" -o ConnectTimeout=").append(Math.max(1, options.connectTimeout().toSeconds()));
        ssh.append(" -o ServerAliveInterval=")
                .append(Math.max(1, options.ioTimeout().toSeconds() / 3));
        options.sshKey()
                .ifPresent(k -> ssh.append(" -i ").append(k).append(" -o IdentitiesOnly=yes"));
        options.sshPort().ifPresent(p -> ssh.append(" -p ").append(p));
        options.sshKnownHosts()
                .ifPresent(
                        k ->
                                ssh.append(" -o UserKnownHostsFile=")
                                        .append(k)
                                        .append(" -o StrictHostKeyChecking=yes"));
        return ssh.toString();
    }

    private static CompletableFuture<List<String>> drain(InputStream in) {
        return CompletableFuture.supplyAsync(
                () -> {
                    List<String> lines = new ArrayList<>();
                    try (BufferedReader r =
                            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                        for (String line; (line = r.readLine()) != null; ) {
                            lines.add(line);
                        }
                    } catch (IOException e) {
                        // The process died; what we have is what there is.
                    }
                    return lines;
                },
                r -> {
                    Thread t = new Thread(r, "szpool-rsync-output");
                    t.setDaemon(true);
                    t.start();
                });
    }

    static Result parse(List<String> out) {
        long literal = 0, matched = 0, sent = 0, received = 0;
        Map<String, Long> files = new HashMap<>();
        for (String line : out) {
            if (line.startsWith(FILE_LINE)) {
                String rest = line.substring(FILE_LINE.length());
                int bar = rest.lastIndexOf('|');
                files.merge(rest.substring(0, bar), number(rest.substring(bar + 1)), Long::sum);
                continue;
            }
            literal = match(LITERAL, line, literal);
            matched = match(MATCHED, line, matched);
            sent = match(SENT, line, sent);
            received = match(RECEIVED, line, received);
        }
        return new Result(literal, matched, sent, received, files, out);
    }

    private static long match(Pattern p, String line, long otherwise) {
        Matcher m = p.matcher(line);
        return m.find() ? number(m.group(1)) : otherwise;
    }

    private static long number(String s) {
        return Long.parseLong(s.replace(",", "").strip());
    }

    private static String describe(int exit) {
        return switch (exit) {
            case 1 -> "syntax or usage error";
            case 3 -> "errors selecting input/output files";
            case 5 -> "error starting the client-server protocol";
            case 10 -> "error in socket I/O";
            case 11 -> "error in file I/O";
            case 12 -> "error in the rsync protocol data stream";
            case 20 -> "killed";
            case 23 -> "partial transfer due to error";
            case 24 -> "source files vanished";
            case 30 -> "timeout in data send/receive";
            case 35 -> "timeout waiting for the daemon";
            case 255 -> "ssh failed";
            default -> "see rsync(1)";
        };
    }
}
