package io.szpool.crypto;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH throughput of {@link XtsCipher} on one thread, per request size; {@code bench/run} turns the
 * operations per second into MB/s and sets them against {@code openssl speed}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class XtsBenchmark {

    @Param({"65536", "1048576"})
    public int requestBytes;

    private XtsCipher cipher;
    private byte[] plaintext;
    private byte[] ciphertext;
    private byte[] out;
    private long unit;

    @Setup(Level.Trial)
    public void setUp() {
        Random random = new Random(42);
        byte[] key = new byte[XtsKey.LENGTH];
        random.nextBytes(key);
        cipher = new XtsCipher(XtsKey.of(key));
        plaintext = new byte[requestBytes];
        random.nextBytes(plaintext);
        ciphertext = plaintext.clone();
        cipher.encrypt(0, ciphertext, 0, ciphertext.length);
        out = new byte[requestBytes];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cipher.close();
    }

    /**
     * A write through the device: plaintext in the caller's buffer, ciphertext to a scratch buffer.
     */
    @Benchmark
    public byte[] encrypt() {
        cipher.encrypt(unit++ & 0xffff, plaintext, 0, out, 0, requestBytes);
        return out;
    }

    /** A read through the device: ciphertext from the file, plaintext to the caller's buffer. */
    @Benchmark
    public byte[] decrypt() {
        cipher.decrypt(0, ciphertext, 0, out, 0, requestBytes);
        return out;
    }
}
