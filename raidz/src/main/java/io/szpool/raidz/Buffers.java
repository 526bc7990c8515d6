package io.szpool.raidz;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Spare byte arrays for the write path, shared by every vdev of the JVM. A write-out group holds
 * tens of MiB of stripes and parity for about a second, long enough that fresh arrays survive young
 * collections and get copied to the old generation (measured: 250-370 ms young pauses under a deep
 * queue). Reusing them keeps that memory in place; the bound keeps idle pools from hoarding it.
 */
final class Buffers {
    /** Bytes kept per array size, at most. */
    private static final long KEEP_BYTES = 64L << 20;

    private static final ConcurrentHashMap<Integer, Spares> SPARES = new ConcurrentHashMap<>();

    private static final class Spares {
        final ConcurrentLinkedQueue<byte[]> arrays = new ConcurrentLinkedQueue<>();
        final AtomicLong bytes = new AtomicLong();
    }

    private Buffers() {}

    /** An array of {@code size} bytes with unspecified content. */
    static byte[] take(int size) {
        byte[] array = spare(size);
        return array == null ? new byte[size] : array;
    }

    /** An array of {@code size} zero bytes. */
    static byte[] takeZeroed(int size) {
        byte[] array = spare(size);
        if (array == null) {
            return new byte[size];
        }
        Arrays.fill(array, (byte) 0);
        return array;
    }

    private static byte[] spare(int size) {
        Spares spares = SPARES.get(size);
        byte[] array = spares == null ? null : spares.arrays.poll();
        if (array != null) {
            spares.bytes.addAndGet(-size);
        }
        return array;
    }

    /** Hands an array back; the caller must hold no other reference to it. */
    static void give(byte[] array) {
        Spares spares = SPARES.computeIfAbsent(array.length, k -> new Spares());
        if (spares.bytes.addAndGet(array.length) > KEEP_BYTES) {
            spares.bytes.addAndGet(-array.length);
            return;
        }
        spares.arrays.offer(array);
    }
}
