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
