package io.szpool.pool.driver;

import io.szpool.nbd.BlockDevice;
import io.szpool.raidz.DeviceStatus;
import io.szpool.raidz.Health;
import io.szpool.raidz.Pool;
import io.szpool.raidz.ScrubResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A pool of the embedded engine, served through a volume whose writes can be held (freeze). */
final class EmbeddedPool implements LivePool {
    private final Pool pool;
    private final HoldableVolume volume;
    private volatile ScanState lastScan;

    EmbeddedPool(Pool pool) {
        this.pool = pool;
        this.volume = new HoldableVolume(pool);
    }

    @Override
    public long size() {
        return pool.size();
    }

    @Override
    public long allocatedBytes() {
        return pool.allocatedBytes();
    }

    @Override
    public Health health() {
        return pool.health();
    }

    @Override
    public int vdevCount() {
        return pool.vdevCount();
    }

    @Override
    public Health vdevHealth(int vdev) {
        return pool.vdevHealth(vdev);
    }

    @Override
    public List<DeviceStatus> status() {
        return pool.status();
    }

    @Override
    public Optional<ScanState> scan() {
        return Optional.ofNullable(lastScan);
    }

    @Override
    public void addVdev(List<String> deviceAddresses) throws IOException {
        List<BlockDevice> opened = new ArrayList<>();
        try {
            pool.addVdev(EmbeddedDriver.openAll(deviceAddresses, opened));
        } catch (IOException | RuntimeException e) {
            opened.forEach(EmbeddedDriver::closeQuietly);
            throw e;
        }
    }

    @Override
    public void flush() throws IOException {
        pool.flush();
    }

    @Override
    public ScrubResult scrub() throws IOException {
        lastScan = new ScanState("scrub", "running", 0, 0, 0);
        try {
            pool.flush();
            ScrubResult result = pool.scrub();
            lastScan =
                    new ScanState(
                            "scrub",
                            "finished",
                            100,
                            result.bytesRepaired(),
                            result.bytesUnrecoverable());
            return result;
        } catch (IOException | RuntimeException e) {
            lastScan = new ScanState("scrub", "canceled", 0, 0, 0);
            throw e;
        }
    }

    @Override
    public Optional<BlockDevice> volume() {
        return Optional.of(volume);
    }

    @Override
    public void freeze() throws IOException {
        volume.hold();
    }

    @Override
    public boolean thaw() {
        return volume.release();
    }

    @Override
    public void export() throws IOException {
        close();
    }

    @Override
    public void destroy() throws IOException {
        close();
    }

    @Override
    public void close() throws IOException {
        // Writers held by a freeze go on and fail on the closed devices rather than hang.
        volume.release();
        pool.close();
    }
}
