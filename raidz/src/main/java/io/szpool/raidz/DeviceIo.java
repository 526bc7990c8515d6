package io.szpool.raidz;

import io.szpool.nbd.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs one I/O per device of a vdev in parallel: devices are often remote (NBD), so a stripe costs
 * one round trip instead of {@code width}.
 */
final class DeviceIo {
    private static final ExecutorService IO =
            Executors.newCachedThreadPool(
                    task -> {
                        Thread thread = new Thread(task, "szpool-raidz-io");
                        thread.setDaemon(true);
                        return thread;
                    });

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
        for (int d = 0; d < count; d++) {
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
        return failures;
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

    static void write(BlockDevice device, long offset, byte[] buffer, int at, int length)
            throws IOException {
        device.write(offset, ByteBuffer.wrap(buffer, at, length), false);
    }
}
