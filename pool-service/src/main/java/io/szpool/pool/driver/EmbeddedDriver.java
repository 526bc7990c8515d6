package io.szpool.pool.driver;

import io.szpool.nbd.BlockDevice;
import io.szpool.raidz.Pool;
import io.szpool.raidz.PoolOptions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/** The {@code embedded} driver: szpool's own RAID-Z2 engine over the devices' addresses. */
public final class EmbeddedDriver implements PoolDriver {
    private static final Logger LOG = Logger.getLogger(EmbeddedDriver.class);

    @Override
    public String name() {
        return "embedded";
    }

    @Override
    public LivePool create(String poolName, List<List<String>> vdevs) throws IOException {
        List<BlockDevice> opened = new ArrayList<>();
        try {
            List<List<BlockDevice>> devices = new ArrayList<>();
            for (List<String> vdev : vdevs) {
                devices.add(openAll(vdev, opened));
            }
            return new EmbeddedPool(Pool.create(poolName, devices));
        } catch (IOException | RuntimeException e) {
            opened.forEach(EmbeddedDriver::closeQuietly);
            throw e;
        }
    }

    @Override
    public LivePool assemble(String poolName, List<String> deviceAddresses) throws IOException {
        List<BlockDevice> devices = new ArrayList<>();
        List<String> unreachable = new ArrayList<>();
        for (String address : deviceAddresses) {
            try {
                devices.add(DeviceOpener.open(address));
            } catch (IOException e) {
                unreachable.add(address + " (" + e.getMessage() + ")");
            }
        }
        if (!unreachable.isEmpty()) {
            LOG.warnf("pool %s: devices not reachable: %s", poolName, unreachable);
        }
        try {
            return new EmbeddedPool(Pool.importFrom(devices, poolName, PoolOptions.DEFAULTS));
        } catch (IOException | RuntimeException e) {
            devices.forEach(EmbeddedDriver::closeQuietly);
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    @Override
    public Discovery discover(String poolName, List<ChunkCandidate> candidates) throws IOException {
        return LabelDiscovery.discover(poolName, candidates);
    }

    static List<BlockDevice> openAll(List<String> addresses, List<BlockDevice> opened)
            throws IOException {
        List<BlockDevice> devices = new ArrayList<>();
        for (String address : addresses) {
            BlockDevice d = DeviceOpener.open(address);
            opened.add(d);
            devices.add(d);
        }
        return devices;
    }

    static void closeQuietly(BlockDevice device) {
        try {
            device.close();
        } catch (IOException | RuntimeException ignored) {
            // Best effort: the device is being given up anyway.
        }
    }
}
