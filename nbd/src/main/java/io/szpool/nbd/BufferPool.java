package io.szpool.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Direct buffers in power-of-two size classes, reused across requests so the data path neither
 * allocates nor copies through the heap. Each class keeps at most a bounded number of idle buffers;
 * what exceeds it is left to the garbage collector.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 25;

    private final ConcurrentLinkedDeque<ByteBuffer>[] idle;
    private final AtomicInteger[] idleCount;
    private final int[] keep;

    @SuppressWarnings("unchecked")
    BufferPool(long idleBytesPerClass) {
        int classes = MAX_SHIFT - MIN_SHIFT + 1;
        idle = new ConcurrentLinkedDeque[classes];
        idleCount = new AtomicInteger[classes];
        keep = new int[classes];
        for (int i = 0; i < classes; i++) {
            idle[i] = new ConcurrentLinkedDeque<>();
            idleCount[i] = new AtomicInteger();
            keep[i] = (int) Math.max(2, idleBytesPerClass >> (MIN_SHIFT + i));
        }
    }

    /** A cleared buffer with exactly {@code length} bytes between position and limit. */
    ByteBuffer acquire(int length) {
        int sizeClass = sizeClass(length);
        ByteBuffer buffer = idle[sizeClass].pollFirst();
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(1 << (sizeClass + MIN_SHIFT));
        } else {
            idleCount[sizeClass].decrementAndGet();
        }
        return buffer.clear().limit(length);
    }

    /** Gives a buffer from {@link #acquire} back; the caller must not touch it afterwards. */
    void release(ByteBuffer buffer) {
        int sizeClass = Integer.numberOfTrailingZeros(buffer.capacity()) - MIN_SHIFT;
        if (idleCount[sizeClass].incrementAndGet() <= keep[sizeClass]) {
            idle[sizeClass].offerFirst(buffer);
        } else {
            idleCount[sizeClass].decrementAndGet();
        }
    }

    private static int sizeClass(int length) {
        if (length > 1 << MAX_SHIFT) {
            throw new IllegalArgumentException("buffer too large: " + length);
        }
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(length, 1 << MIN_SHIFT) - 1);
        return shift - MIN_SHIFT;
    }
}
