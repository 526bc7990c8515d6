package io.szpool.pool.driver;

import io.szpool.nbd.BlockDevice;
import io.szpool.raidz.DeviceStatus;
import io.szpool.raidz.Health;
import io.szpool.raidz.ScrubResult;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * One pool assembled on this host by a {@link PoolDriver}: what pool-service asks of it, whether
 * the pool lives in our process (the embedded RAID-Z2 engine) or in the kernel (OpenZFS).
 *
 * <p>Reads of state ({@link #size()}, {@link #health()}, {@link #status()} ...) are cheap: a driver
 * that has to ask an outside command answers from what it saw at the last {@link #refresh()}.
 */
public interface LivePool {

    /** Bytes the pool can hold (the volume's size, or {@code zpool list}'s size). */
    long size();

    /** Bytes written and not trimmed: what the capacity monitor compares with {@link #size()}. */
    long allocatedBytes();

    Health health();

    int vdevCount();

    Health vdevHealth(int vdev);

    /** Every device of every vdev with its state and read / write / checksum error counts. */
    List<DeviceStatus> status();

    /** The last or running scrub, as {@code zpool status} shows it; empty when none ran. */
    Optional<ScanState> scan();

    /** Asks the pool again for the state that the getters answer from. */
    default void refresh() throws IOException {}

    /** Adds one raidz2 vdev of these devices, in column order. */
    void addVdev(List<String> deviceAddresses) throws IOException;

    /** Makes every acknowledged write durable (engine commit, or {@code zpool sync}). */
    void flush() throws IOException;

    /** Reads and verifies every allocated block, repairs what it can, and waits for the end. */
    ScrubResult scrub() throws IOException;

    /** The block volume to serve over NBD; empty where the kernel serves the pool's datasets. */
    Optional<BlockDevice> volume();

    /**
     * Finishes in-flight writes, commits and flushes every device, then holds new writes to the
     * volume (reads go on) until {@link #thaw()}.
     *
     * @throws UnsupportedOperationException where the driver has no volume to hold
     * @throws IllegalStateException when already frozen
     */
    default void freeze() throws IOException {
        throw new UnsupportedOperationException("this driver cannot freeze a pool's writes");
    }

    /** Lets held writes go on; false when the pool was not frozen. */
    default boolean thaw() {
        return false;
    }

    /** Releases the pool so that another host (or a later import) may take it. */
    void export() throws IOException;

    /** Destroys the pool's on-disk identity before its chunks are destroyed. */
    void destroy() throws IOException;

    /** Stops using the pool without changing it on disk (service stop, devices moved). */
    void close() throws IOException;
}
