package io.szpool.pool.driver;

import java.io.IOException;
import java.util.List;

/**
 * How this host builds and assembles pools from chunk devices: {@code embedded} (the userspace
 * RAID-Z2 engine over the devices' addresses, volume served over NBD) or {@code zfs} (OpenZFS's
 * {@code zpool} over {@code /dev/mapper/szpool-<chunk>} devices). Chosen by {@code
 * szpool.pool.driver}.
 */
public interface PoolDriver {

    /** The name in config and in the REST answers. */
    String name();

    /**
     * Builds a new pool; each inner list is one raidz2 vdev's device addresses in column order. On
     * failure nothing stays open or created.
     */
    LivePool create(String poolName, List<List<String>> vdevs) throws IOException;

    /**
     * Assembles an existing pool from its devices given in any order (devices that do not answer
     * are left out: up to two per vdev, the pool then runs degraded).
     */
    LivePool assemble(String poolName, List<String> deviceAddresses) throws IOException;

    /**
     * Imports pool {@code poolName}, which this host has no record of, from whichever of the
     * candidate chunks carry its labels; missing columns are left for {@link Discovery#rebuild()}.
     *
     * @throws io.szpool.service.ProblemException 404 when no candidate is the pool's, 409 when
     *     several pools have that name or a vdev misses more than two columns
     */
    default Discovery discover(String poolName, List<ChunkCandidate> candidates)
            throws IOException {
        throw new UnsupportedOperationException(
                "the " + name() + " driver cannot import a pool this host has no record of");
    }
}
