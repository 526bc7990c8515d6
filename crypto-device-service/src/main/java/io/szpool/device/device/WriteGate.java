package io.szpool.device.device;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The write path of one chunk, as snapshots see it: every write, trim and zeroing of the chunk's
 * device passes here, so that a snapshot can hold all of them at one instant and have the units
 * they change preserved before they change. One gate per chunk id for the life of the service, so
 * that a detach and re-attach keeps the snapshots that cover the chunk.
 */
public final class WriteGate {

    /** Keeps a unit's old ciphertext before a write changes it (a snapshot's copy-on-write). */
    public interface Preserver {
        /** Called before {@code length} bytes from {@code offset} change, all whole units. */
        void preserve(long offset, long length) throws IOException;
    }

    /** What a device does inside the gate: one write, trim or zeroing. */
    @FunctionalInterface
    interface Change {
        void apply() throws IOException;
    }

    // Writers share the read side; a snapshot's barrier takes the write side, which waits for the
    // writes in flight (they are in the snapshot) and holds back the ones that come after.
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final List<Preserver> preservers = new CopyOnWriteArrayList<>();

    void change(long offset, long length, Change change) throws IOException {
        lock.readLock().lock();
        try {
            for (Preserver p : preservers) {
                p.preserve(offset, length);
            }
            change.apply();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Holds every write of the chunk until {@link #release()}; waits for the ones in flight. */
    public void hold() {
        lock.writeLock().lock();
    }

    public void release() {
        lock.writeLock().unlock();
    }

    /** From the next write on, {@code p} sees every change first. */
    public void add(Preserver p) {
        preservers.add(p);
    }

    public void remove(Preserver p) {
        preservers.remove(p);
    }
}
