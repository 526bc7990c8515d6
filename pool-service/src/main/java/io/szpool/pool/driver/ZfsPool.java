package io.szpool.pool.driver;

import io.szpool.nbd.BlockDevice;
import io.szpool.raidz.DeviceStatus;
import io.szpool.raidz.Health;
import io.szpool.raidz.ScrubResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A pool the kernel's OpenZFS serves. State comes from {@code zpool list -Hp} and {@code zpool
 * status -P}, read at {@link #refresh()} (the ticker does it every second) and after each change.
 */
final class ZfsPool implements LivePool {
    private final ZfsDriver zfs;
    private final String name;
    private volatile ZpoolStatus.ListLine list;
    private volatile ZpoolStatus status;

    ZfsPool(ZfsDriver zfs, String name) {
        this.zfs = zfs;
        this.name = name;
    }

    @Override
    public void refresh() throws IOException {
        list =
                ZpoolStatus.ListLine.parse(
                        zfs.run("list", "-Hp", "-o", "name,size,alloc,free,health", name));
        status = ZpoolStatus.parse(zfs.run("status", "-P", name));
    }

    @Override
    public long size() {
        return list.size();
    }

    @Override
    public long allocatedBytes() {
        return list.allocated();
    }

    @Override
    public Health health() {
        return list.health();
    }

    @Override
    public int vdevCount() {
        return status.vdevs().size();
    }

    @Override
    public Health vdevHealth(int vdev) {
        return status.vdevs().get(vdev).state();
    }

    @Override
    public List<DeviceStatus> status() {
        List<DeviceStatus> all = new ArrayList<>();
        status.vdevs().forEach(v -> all.addAll(v.devices()));
        return all;
    }

    @Override
    public Optional<ScanState> scan() {
        return status.scan();
    }

    @Override
    public void addVdev(List<String> deviceAddresses) throws IOException {
        List<String> args = new ArrayList<>(List.of("add", name, "raidz2"));
        args.addAll(ZfsDriver.paths(deviceAddresses));
        zfs.run(args.toArray(String[]::new));
        refresh();
    }

    @Override
    public void flush() throws IOException {
        zfs.run("sync", name);
    }

    /**
     * {@code zpool scrub -w} waits for the end. zpool reports repaired bytes and a count of errors
     * it could not repair (not bytes): the latter goes into the unrecoverable field.
     */
    @Override
    public ScrubResult scrub() throws IOException {
        zfs.run("scrub", "-w", name);
        refresh();
        ScanState scan = status.scan().orElse(new ScanState("scrub", "finished", 100, 0, 0));
        return new ScrubResult(list.allocated(), scan.repairedBytes(), scan.errors());
    }

    @Override
    public Optional<BlockDevice> volume() {
        return Optional.empty();
    }

    @Override
    public void export() throws IOException {
        zfs.run("export", name);
    }

    @Override
    public void destroy() throws IOException {
        zfs.run("destroy", name);
    }

    /** The kernel keeps serving the pool when pool-service stops; a restart attaches again. */
    @Override
    public void close() {}
}
