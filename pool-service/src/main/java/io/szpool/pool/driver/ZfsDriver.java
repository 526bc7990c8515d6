package io.szpool.pool.driver;

import io.szpool.pool.driver.CommandRunner.CommandException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code zfs} driver: OpenZFS builds and serves the pool in the kernel; pool-service runs
 * {@code zpool} and reads its answers. Device addresses are paths ({@code
 * /dev/mapper/szpool-<chunkId>} from the {@code linux} device driver).
 */
public final class ZfsDriver implements PoolDriver {
    private final CommandRunner runner;
    private final String zpool;
    private final Path importDir;

    /**
     * @param zpool the {@code zpool} command (a name on PATH or a path)
     * @param importDir where {@code zpool import -d} looks when no device path is known
     */
    public ZfsDriver(CommandRunner runner, String zpool, Path importDir) {
        this.runner = runner;
        this.zpool = zpool;
        this.importDir = importDir;
    }

    @Override
    public String name() {
        return "zfs";
    }

    @Override
    public LivePool create(String poolName, List<List<String>> vdevs) throws IOException {
        List<String> command =
                new ArrayList<>(List.of(zpool, "create", "-o", "ashift=12", poolName));
        for (List<String> vdev : vdevs) {
            command.add("raidz2");
            command.addAll(paths(vdev));
        }
        runner.run(command);
        ZfsPool pool = new ZfsPool(this, poolName);
        pool.refresh();
        return pool;
    }

    /**
     * Attaches to a pool the kernel has imported already (pool-service restarted), or imports it
     * from the folders its devices are in (any names, any order: zpool reads the labels).
     */
    @Override
    public LivePool assemble(String poolName, List<String> deviceAddresses) throws IOException {
        if (!imported(poolName)) {
            Set<String> dirs = new LinkedHashSet<>();
            for (String address : deviceAddresses) {
                Path parent = Path.of(address).getParent();
                if (address.startsWith("/") && parent != null) {
                    dirs.add(parent.toString());
                }
            }
            if (dirs.isEmpty()) {
                dirs.add(importDir.toString());
            }
            List<String> command = new ArrayList<>(List.of(zpool, "import"));
            for (String dir : dirs) {
                command.add("-d");
                command.add(dir);
            }
            command.add(poolName);
            runner.run(command);
        }
        ZfsPool pool = new ZfsPool(this, poolName);
        pool.refresh();
        return pool;
    }

    boolean imported(String poolName) throws IOException {
        try {
            runner.run(List.of(zpool, "list", "-H", "-o", "name", poolName));
            return true;
        } catch (CommandException e) {
            if (e.exitCode() > 0) {
                return false; // "cannot open 'NAME': no such pool"
            }
            throw e;
        }
    }

    String run(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(zpool);
        command.addAll(List.of(args));
        return runner.run(command).stdout();
    }

    /** zpool takes device paths; an NBD address means the device service runs another driver. */
    static List<String> paths(List<String> addresses) throws IOException {
        for (String address : addresses) {
            if (!address.startsWith("/")) {
                throw new IOException(
                        "the zfs driver needs block device paths (crypto-device-service with"
                                + " szpool.device.driver=linux gives /dev/mapper/szpool-<chunk>),"
                                + " got "
                                + address);
            }
        }
        return addresses;
    }
}
