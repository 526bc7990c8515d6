package io.szpool.raidz;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Parity generation and two-data-column reconstruction of one stripe, one thread; bench/run turns
 * operations per second into MB/s of data columns (width - 2 columns per operation).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
public class ParityBenchmark {
    @Param({"6"})
    int width;

    @Param({"4096", "65536"})
    int columnBytes;

    private byte[][] stripe;
    private int[] offsets;

    @Setup
    public void setUp() {
        Random random = new Random(7);
        stripe = new byte[width][columnBytes];
        for (int c = 0; c < width - 2; c++) {
            random.nextBytes(stripe[c]);
        }
        offsets = new int[width];
        RaidZ2Parity.generate(stripe, offsets, columnBytes);
    }

    @Benchmark
    public byte[][] generate() {
        RaidZ2Parity.generate(stripe, offsets, columnBytes);
        return stripe;
    }

    /** The worst case: two data columns lost, both rebuilt from P and Q. */
    @Benchmark
    public byte[][] reconstructTwoData() {
        RaidZ2Parity.reconstruct(stripe, offsets, columnBytes, 0, 2);
        return stripe;
    }
}
