package io.szpool.raidz;

import io.szpool.nbd.BlockDevice;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicLong;

/** One column's device in a vdev, with its state and error counters (what zpool status shows). */
final class VdevDevice {
    final int column;
    volatile BlockDevice device;
    volatile long guid;
    volatile Health state;
    final AtomicLong readErrors = new AtomicLong();
    final AtomicLong writeErrors = new AtomicLong();
    final AtomicLong checksumErrors = new AtomicLong();

    /**
     * Per map page, which of the two slots holds this device's newest committed copy; the next
     * commit writes the other one, so a crash mid-write never destroys the committed copy. Guarded
     * by the vdev's write lock.
     */
    final BitSet currentMapSlot = new BitSet();

    VdevDevice(int column, BlockDevice device, long guid) {
        this.column = column;
        this.device = device;
        this.guid = guid;
        this.state = device == null ? Health.UNAVAIL : Health.ONLINE;
    }

    boolean readable() {
        return state == Health.ONLINE || state == Health.DEGRADED;
    }

    boolean writable() {
        return readable() || state == Health.RESILVERING;
    }

    void clearErrors() {
        readErrors.set(0);
        writeErrors.set(0);
        checksumErrors.set(0);
        if (state == Health.DEGRADED) {
            state = Health.ONLINE;
        }
    }

    @Override
    public String toString() {
        return device == null ? "(missing)" : device.toString();
    }
}
