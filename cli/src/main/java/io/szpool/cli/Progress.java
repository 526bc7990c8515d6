package io.szpool.cli;

import java.io.PrintWriter;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Long work (create, grow, sync, restore, scrub) with a live line on a terminal: elapsed time and
 * what a poll of the service says. Off a terminal (scripts, --json) nothing but the result prints.
 */
final class Progress {
    private Progress() {}

    static <T> T run(PrintWriter err, String label, Supplier<String> poll, Supplier<T> work) {
        boolean live = System.console() != null && System.getenv("SZPOOL_NO_PROGRESS") == null;
        ExecutorService worker =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, "szpool-work");
                            t.setDaemon(true);
                            return t;
                        });
        try {
            Future<T> result = worker.submit(work::get);
            long start = System.nanoTime();
            String[] spin = {"|", "/", "-", "\\"};
            int i = 0;
            while (true) {
                try {
                    T value = result.get(live ? 1 : 3600, TimeUnit.SECONDS);
                    if (live) {
                        err.print("\r\033[K");
                        err.flush();
                    }
                    return value;
                } catch (TimeoutException stillRunning) {
                    if (live) {
                        String state = "";
                        try {
                            state = poll == null ? "" : poll.get();
                        } catch (RuntimeException pollFailed) {
                            state = "";
                        }
                        long s = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
                        err.printf(
                                "\r\033[K%s %s %d:%02d %s",
                                spin[i++ % spin.length], label, s / 60, s % 60, state);
                        err.flush();
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    if (live) {
                        err.print("\r\033[K");
                        err.flush();
                    }
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new CliException(label + " failed: " + e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CliException("interrupted");
                }
            }
        } finally {
            worker.shutdownNow();
        }
    }
}
