package io.szpool.pool.driver;

import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.BlockSizes;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

/**
 * A pool's volume as the NBD server sees it, with a gate in front of every change: a freeze waits
 * for the writes in flight, commits the pool (uberblock written, every device flushed), and then
 * holds new writes, trims and zeroings in their NBD worker threads until the thaw. Reads and
 * flushes pass, so a backup can copy a consistent set of chunk files while clients keep reading.
 */
final class HoldableVolume implements BlockDevice {
    private final BlockDevice pool;
    private boolean held;
    private int changesInFlight;

    HoldableVolume(BlockDevice pool) {
        this.pool = pool;
    }

    /** Waits for the changes in flight, commits, and holds new ones. */
    void hold() throws IOException {
        synchronized (this) {
            if (held) {
                throw new IllegalStateException("already frozen");
            }
            held = true;
            try {
                while (changesInFlight > 0) {
                    wait();
                }
            } catch (InterruptedException e) {
                held = false;
                notifyAll();
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for writes in flight");
            }
        }
        try {
            pool.flush();
        } catch (IOException | RuntimeException e) {
            release();
            throw e;
        }
    }

    /** Lets held changes go on; false when nothing was held. */
    synchronized boolean release() {
        boolean was = held;
        held = false;
        notifyAll();
        return was;
    }

    private synchronized void enter() throws InterruptedIOException {
        try {
            while (held) {
                wait();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the pool was frozen");
        }
        changesInFlight++;
    }

    private synchronized void leave() {
        changesInFlight--;
        if (changesInFlight == 0) {
            notifyAll();
        }
    }

    @Override
    public long size() {
        return pool.size();
    }

    @Override
    public BlockSizes blockSizes() {
        return pool.blockSizes();
    }

    @Override
    public boolean readOnly() {
        return pool.readOnly();
    }

    @Override
    public boolean canTrim() {
        return pool.canTrim();
    }

    @Override
    public boolean sharedCache() {
        return pool.sharedCache();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        pool.read(offset, dst);
    }

    /** A change to the volume: runs once the gate is open, counted while in flight. */
    private interface Change {
        void apply() throws IOException;
    }

    private void change(Change change) throws IOException {
        enter();
        try {
            change.apply();
        } finally {
            leave();
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        change(() -> pool.write(offset, src, fua));
    }

    @Override
    public void flush() throws IOException {
        pool.flush();
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        change(() -> pool.trim(offset, length, fua));
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
            throws IOException {
        change(() -> pool.writeZeroes(offset, length, mayPunchHole, fua));
    }

    @Override
    public void close() throws IOException {
        release();
        pool.close();
    }

    @Override
    public String toString() {
        return pool.toString();
    }
}
