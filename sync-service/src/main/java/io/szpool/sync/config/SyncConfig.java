package io.szpool.sync.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Where sync-service works, what it backs up to by default, and how it runs rsync. */
@ConfigMapping(prefix = "szpool.sync")
public interface SyncConfig {

    /**
     * sync-service's own folder: {@code work/} (staging and fetched manifests, emptied after every
     * run) and {@code pins/} (generations an operator pinned, per pool).
     */
    Path dataDir();

    /**
     * The crypto-device-service data folder of this host (chunks, records, key slots): the at-rest
     * capture source reads pools from here unless a request names another folder.
     */
    Optional<Path> chunkDataDir();

    /** Target for pools whose request or command names none. */
    Optional<String> defaultTarget();

    /** Complete generations kept per pool on a target, besides the pinned ones. */
    @WithDefault("7")
    int keep();

    /**
     * A file whose first line is the operator's passphrase; without it, {@code SZPOOL_PASSPHRASE}.
     * It opens the pool's key slot, whose master key gives the manifest and name keys.
     */
    Optional<Path> passphraseFile();

    /**
     * This host's pool-service: a pool it lists as imported is captured live (freeze, snapshot,
     * thaw); {@code none} captures every pool from its chunk files at rest.
     */
    @WithDefault("http://127.0.0.1:8081")
    String poolServiceUrl();

    /** This host's crypto-device-service: key slots and the snapshots of a live capture. */
    @WithDefault("http://127.0.0.1:8082")
    String deviceServiceUrl();

    /**
     * How long pool-service may hold a pool's writes for a capture before it lets them go by itself
     * (should this service die between freeze and thaw).
     */
    @WithDefault("5s")
    Duration freezeTimeout();

    /** Timeout of each call to pool-service and crypto-device-service (not the chunk streams). */
    @WithDefault("30s")
    Duration serviceTimeout();

    /**
     * How long each step of a restore's import may take: crypto-device-service adopting the
     * restored chunks, pool-service importing the pool (its rebuild of bad chunks included), the
     * scrub after it. Each reads or writes whole chunks.
     */
    @WithDefault("2h")
    Duration importTimeout();

    Schedule schedule();

    /** When pools are synced without being asked. */
    interface Schedule {
        /**
         * Every pool of this host with no schedule of its own is synced this often to the default
         * target ({@code PT0S}: only on demand and after growth).
         */
        @WithDefault("PT15M")
        Duration every();

        /** How often the scheduler looks for pools that are due. */
        @WithDefault("10s")
        Duration tick();

        /** Sync a pool to the default target after it grew ({@code PoolGrown}). */
        @WithDefault("true")
        boolean afterGrowth();
    }

    Rsync rsync();

    interface Rsync {
        /** The rsync binary. */
        @WithDefault("rsync")
        String binary();

        /** {@code --bwlimit} in KiB/s; 0 for no limit. */
        @WithDefault("0")
        int bwlimitKib();

        /** A transfer that moves no data this long fails ({@code --timeout}). */
        @WithDefault("60s")
        Duration ioTimeout();

        /** Connecting to a daemon or SSH server may take this long. */
        @WithDefault("10s")
        Duration connectTimeout();

        /** Tries per rsync call when the failure looks transient (network, daemon down). */
        @WithDefault("3")
        int attempts();

        /** Pause before the second try, doubled before each further one. */
        @WithDefault("2s")
        Duration backoff();

        /** rsync daemon password file (mode 0600); never logged, never in events. */
        Optional<Path> passwordFile();

        /** Private key for SSH targets. */
        Optional<Path> sshKey();

        /** SSH port, when not 22. */
        Optional<Integer> sshPort();

        /** known_hosts for SSH targets; when set, host keys are checked strictly against it. */
        Optional<Path> sshKnownHosts();
    }
}
