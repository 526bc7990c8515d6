package io.szpool.raidz;

import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.MemoryBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test device with a volatile write cache: writes since the last flush live in memory and, when
 * the shared {@link Crash} fires, only a random subset of them reaches the durable image (the last
 * one possibly torn). Afterwards every call fails, as if the process had died.
 */
final class CrashableDevice implements BlockDevice {

    /** Counts device writes across all devices of a pool and fires at a chosen one. */
    static final class Crash {
        final AtomicInteger writesLeft;
        final Random random;
        final List<CrashableDevice> devices = new ArrayList<>();
        volatile boolean fired;

        Crash(int writesBeforeCrash, long seed) {
            this.writesLeft = new AtomicInteger(writesBeforeCrash);
            this.random = new Random(seed);
        }

        synchronized void fire() {
            if (fired) {
                return;
            }
            fired = true;
            for (CrashableDevice device : devices) {
                device.loseVolatileWrites(random);
            }
        }
    }

    private record PendingWrite(long offset, byte[] data) {}

    final MemoryBlockDevice durable;

    /** Every write's offset and length, in order, so a test can check where a pool wrote. */
    final List<long[]> writeLog = Collections.synchronizedList(new ArrayList<>());

    final AtomicInteger flushes = new AtomicInteger();
    private final Crash crash;
    private final List<PendingWrite> pending = new ArrayList<>();

    CrashableDevice(MemoryBlockDevice durable, Crash crash) {
        this.durable = durable;
        this.crash = crash;
        crash.devices.add(this);
    }

    @Override
    public long size() {
        return durable.size();
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    private void checkAlive() throws IOException {
        if (crash.fired) {
            throw new IOException("crashed");
        }
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        checkAlive();
        int start = dst.position();
        int length = dst.remaining();
        durable.read(offset, dst);
        // Overlay the cached writes in order, as the page cache would serve them.
        for (PendingWrite w : pending) {
            long from = Math.max(offset, w.offset);
            long to = Math.min(offset + length, w.offset + w.data.length);
            for (long p = from; p < to; p++) {
                dst.put(start + (int) (p - offset), w.data[(int) (p - w.offset)]);
            }
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        checkAlive();
        writeLog.add(new long[] {offset, src.remaining()});
        if (crash.writesLeft.decrementAndGet() < 0) {
            // The crash lands in the middle of this write: part of it may reach the cache.
            byte[] data = new byte[src.remaining()];
            src.get(data);
            synchronized (this) {
                pending.add(new PendingWrite(offset, data));
            }
            crash.fire();
            throw new IOException("crashed");
        }
        byte[] data = new byte[src.remaining()];
        src.get(data);
        synchronized (this) {
            pending.add(new PendingWrite(offset, data));
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        checkAlive();
        flushes.incrementAndGet();
        for (PendingWrite w : pending) {
            durable.write(w.offset, ByteBuffer.wrap(w.data), false);
        }
        pending.clear();
    }

    /** A random subset of the cached writes reaches the medium, in order; one may be torn. */
    private synchronized void loseVolatileWrites(Random random) {
        for (PendingWrite w : pending) {
            int choice = random.nextInt(4);
            if (choice == 0) {
                continue;
            }
            int length = w.data.length;
            if (choice == 1 && length > 512) {
                length = 512 * random.nextInt(length / 512);
            }
            durable.write(w.offset, ByteBuffer.wrap(w.data, 0, length), false);
        }
        pending.clear();
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
            throws IOException {
        write(offset, ByteBuffer.allocate((int) length), fua);
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "crashable " + System.identityHashCode(this);
    }
}
