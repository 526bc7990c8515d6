package io.szpool.raidz;

import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.NbdClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs one I/O per device of a vdev in parallel: devices are often remote (NBD), so a stripe costs
 * one round trip instead of {@code width}.
 */
final class DeviceIo {
    private static final ExecutorService IO = daemonThreads("szpool-raidz-io");

    /** A cached pool of daemon threads: engine work must never keep the JVM alive. */
    static ExecutorService daemonThreads(String name) {
        return Executors.newCachedThreadPool(
                task -> {
                    Thread thread = new Thread(task, name);
                    thread.setDaemon(true);
                    return thread;
                });
    }

    /** The I/O of one device index. */
    interface Task {
        void run(int device) throws IOException;
    }

    private DeviceIo() {}

    /**
     * Runs {@code task} for every index whose {@code selected} entry is true and returns each
     * index's failure (null where it succeeded or was not selected). A device that breaks its
     * contract with a runtime exception counts as an I/O failure of that device only.
     */
    static IOException[] forEach(boolean[] selected, Task task) {
        int count = selected.length;
        IOException[] failures = new IOException[count];
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[count];
        int last = -1;
        for (int d = 0; d < count; d++) {
            if (selected[d]) {
                last = d;
            }
        }
        for (int d = 0; d < count; d++) {
            if (selected[d] && d != last) {
                int device = d;
                futures[d] = IO.submit(() -> runOne(task, device, failures));
            }
        }
        // The calling thread does one share of the work instead of only waiting.
        if (last >= 0) {
            runOne(task, last, failures);
        }
        awaitTasks(futures, failures);
        return failures;
    }

    /** Work the calling thread does while the devices' tasks run. */
    interface Producer {
        void run() throws IOException;
    }

    /**
     * Like {@link #forEach}, but every device's task runs on the pool while the calling thread runs
     * {@code producer} (which typically prepares the data the tasks wait for), then waits for them.
     * A failure of the producer is rethrown after the tasks have ended.
     */
    static IOException[] forEachWhile(boolean[] selected, Task task, Producer producer)
            throws IOException {
        int count = selected.length;
        IOException[] failures = new IOException[count];
        Future<?>[] futures = new Future<?>[count];
        for (int d = 0; d < count; d++) {
            if (selected[d]) {
                int device = d;
                futures[d] = IO.submit(() -> runOne(task, device, failures));
            }
        }
        IOException produced = null;
        try {
            producer.run();
        } catch (IOException e) {
            produced = e;
        } catch (RuntimeException e) {
            produced = new IOException(e.toString(), e);
        }
        awaitTasks(futures, failures);
        if (produced != null) {
            throw produced;
        }
        return failures;
    }

    private static void awaitTasks(Future<?>[] futures, IOException[] failures) {
        for (int d = 0; d < futures.length; d++) {
            if (futures[d] != null) {
                try {
                    futures[d].get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failures[d] = new IOException("interrupted", e);
                } catch (ExecutionException e) {
                    failures[d] = new IOException(e.getCause());
                }
            }
        }
    }

    private static void runOne(Task task, int device, IOException[] failures) {
        try {
            task.run(device);
        } catch (IOException e) {
            failures[device] = e;
        } catch (RuntimeException e) {
            failures[device] = new IOException(e.toString(), e);
        }
    }

    static void read(BlockDevice device, long offset, byte[] buffer, int at, int length)
            throws IOException {
        device.read(offset, ByteBuffer.wrap(buffer, at, length));
    }

    /**
     * Starts a write and returns its completion: pipelined on the connection for an NBD device
     * (several requests in flight hide the round trip), else done right here. {@code buffer} must
     * stay untouched until the future completes.
     */
    static CompletableFuture<Void> writeAsync(
            BlockDevice device, long offset, byte[] buffer, int length) {
        if (device instanceof NbdClient client) {
            return client.writeAsync(offset, ByteBuffer.wrap(buffer, 0, length), false);
        }
        try {
            write(device, offset, buffer, 0, length);
            return CompletableFuture.completedFuture(null);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Waits for every future; throws the first failure (as an IOException) after all ended. */
    static void awaitAll(List<CompletableFuture<Void>> futures) throws IOException {
        Throwable first = null;
        for (CompletableFuture<Void> future : futures) {
            try {
                future.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                first = first == null ? e : first;
            } catch (ExecutionException e) {
                first = first == null ? e.getCause() : first;
            }
        }
        if (first instanceof IOException e) {
            throw e;
        }
        if (first != null) {
            throw new IOException(first.toString(), first);
        }
    }

    static void write(BlockDevice device, long offset, byte[] buffer, int at, int length)
            throws IOException {
        device.write(offset, ByteBuffer.wrap(buffer, at, length), false);
    }
}
