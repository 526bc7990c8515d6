package io.szpool.pool.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;

/** Where pool-service keeps its state, where it serves pool volumes, and its policies. */
@ConfigMapping(prefix = "szpool.pool")
public interface PoolConfig {

    /**
     * The folder that holds one state file per pool (names, chunk ids, device addresses, sagas).
     */
    @WithDefault("var/pool")
    Path dataDir();

    /**
     * This host's crypto-device-service, asked for its attached chunks when a pool is imported that
     * this host has no record of (after a restore).
     */
    @WithDefault("http://127.0.0.1:8082")
    String deviceServiceUrl();

    /** How long a create or grow waits for its chunks before it rolls back. */
    @WithDefault("120s")
    Duration sagaTimeout();

    /**
     * How pools are built: {@code embedded} (szpool's RAID-Z2 engine over the devices' addresses,
     * any device driver) or {@code zfs} (OpenZFS {@code zpool} over the {@code linux} device
     * driver's {@code /dev/mapper/szpool-<chunk>} devices).
     */
    @WithDefault("embedded")
    Driver driver();

    /** The {@code zpool} command of the {@code zfs} driver. */
    Zfs zfs();

    /** The pool drivers. */
    enum Driver {
        EMBEDDED,
        ZFS
    }

    interface Zfs {
        /** The {@code zpool} command: a name on PATH or a path. */
        @WithDefault("zpool")
        String command();

        /** How long one zpool command may run before it is killed (a scrub waits: -w). */
        @WithDefault("24h")
        java.time.Duration commandTimeout();

        /** Where {@code zpool import -d} looks when no device path of the pool is known. */
        @WithDefault("/dev/mapper")
        Path importDir();
    }

    /** The NBD listener that serves every imported pool's volume, export name = pool name. */
    Nbd nbd();

    /** When a pool counts as full. */
    Capacity capacity();

    /** What happens when a pool is full. */
    AutoGrow autoGrow();

    interface Nbd {
        /** Address to bind; loopback unless users mount from other hosts. */
        @WithDefault("127.0.0.1")
        String host();

        /** TCP port; 0 picks a free one (tests). */
        @WithDefault("10809")
        int port();
    }

    interface Capacity {
        /** Allocated share of the volume, in percent, at which a PoolCapacityAlert fires. */
        @WithDefault("80")
        int thresholdPercent();

        /**
         * How far below the threshold the allocated share must fall before the next alert may fire,
         * in percent points, so a pool hovering at the threshold does not flap.
         */
        @WithDefault("5")
        int hysteresisPercent();

        /** How often the monitor looks at every pool. */
        @WithDefault("30s")
        Duration checkInterval();
    }

    interface AutoGrow {
        /** Whether a capacity alert grows the pool by itself; each pool can turn it off. */
        @WithDefault("true")
        boolean enabled();

        /** Auto-grow never takes a pool's volume beyond this many bytes (default 16 TiB). */
        @WithDefault("17592186044416")
        long maxSizeBytes();
    }
}
