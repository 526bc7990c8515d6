package io.szpool.nbd;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one export (requests, bytes, errors, latency), cheap to update from many threads.
 * {@link #snapshot()} gives plain values that a service can bind to Micrometer or Prometheus.
 */
public final class ExportMetrics {

    /** Upper bounds of the latency histogram buckets, in microseconds; a last bucket is open. */
    public static final long[] LATENCY_BOUNDS_MICROS = {
        10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
        500_000, 1_000_000, 2_500_000
    };

    /** The request kinds counted separately. */
    public enum Command {
        READ,
        WRITE,
        FLUSH,
        TRIM,
        WRITE_ZEROES,
        OTHER
    }

    private final LongAdder[] requests = newAdders(Command.values().length);
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder latencySumNanos = new LongAdder();
    private final LongAccumulator latencyMaxNanos = new LongAccumulator(Math::max, 0);
    private final LongAdder[] latencyBuckets = newAdders(LATENCY_BOUNDS_MICROS.length + 1);
    private final AtomicInteger connections = new AtomicInteger();

    /** Moving average of how long the device takes for a small read, in nanoseconds. */
    private volatile long smallReadNanos;

    private static LongAdder[] newAdders(int n) {
        LongAdder[] adders = new LongAdder[n];
        Arrays.setAll(adders, i -> new LongAdder());
        return adders;
    }

    void record(Command command, long bytes, boolean failed, long latencyNanos) {
        requests[command.ordinal()].increment();
        if (failed) {
            errors.increment();
        } else if (command == Command.READ) {
            bytesRead.add(bytes);
        } else if (command == Command.WRITE) {
            bytesWritten.add(bytes);
        }
        latencySumNanos.add(latencyNanos);
        latencyMaxNanos.accumulate(latencyNanos);
        long micros = latencyNanos / 1000;
        int bucket = 0;
        while (bucket < LATENCY_BOUNDS_MICROS.length && micros > LATENCY_BOUNDS_MICROS[bucket]) {
            bucket++;
        }
        latencyBuckets[bucket].increment();
    }

    /** Races between threads may drop a sample; an average does not mind. */
    void recordSmallRead(long deviceNanos) {
        long average = smallReadNanos;
        smallReadNanos = average + (deviceNanos - average) / 16;
    }

    long smallReadNanos() {
        return smallReadNanos;
    }

    void connectionOpened() {
        connections.incrementAndGet();
    }

    void connectionClosed() {
        connections.decrementAndGet();
    }

    public Snapshot snapshot() {
        long[] perCommand = new long[requests.length];
        for (int i = 0; i < perCommand.length; i++) {
            perCommand[i] = requests[i].sum();
        }
        long[] buckets = new long[latencyBuckets.length];
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = latencyBuckets[i].sum();
        }
        return new Snapshot(
                perCommand,
                bytesRead.sum(),
                bytesWritten.sum(),
                errors.sum(),
                latencySumNanos.sum(),
                latencyMaxNanos.get(),
                buckets,
                connections.get());
    }

    /**
     * Values at one moment. {@code latencyBuckets[i]} counts requests that took at most {@code
     * LATENCY_BOUNDS_MICROS[i]} (and more than the previous bound); the last element counts the
     * rest.
     */
    public record Snapshot(
            long[] requestsByCommand,
            long bytesRead,
            long bytesWritten,
            long errors,
            long latencySumNanos,
            long latencyMaxNanos,
            long[] latencyBuckets,
            int connections) {

        public long requests(Command command) {
            return requestsByCommand[command.ordinal()];
        }

        public long requests() {
            return Arrays.stream(requestsByCommand).sum();
        }
    }
}
