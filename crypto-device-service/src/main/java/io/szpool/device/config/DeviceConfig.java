package io.szpool.device.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Where this host keeps its chunks and keys, and where it serves their devices. */
@ConfigMapping(prefix = "szpool.device")
public interface DeviceConfig {

    /** The folder that holds this host's chunk files, chunk records and key slots. */
    Path dataDir();

    /**
     * A file whose first line is the operator's passphrase; without it the passphrase comes from
     * the environment variable {@code SZPOOL_PASSPHRASE}.
     */
    Optional<Path> passphraseFile();

    /**
     * How chunk files become encrypted devices: {@code embedded} (userspace XTS over NBD, no root),
     * {@code linux} (losetup + dm-crypt, root) or {@code solaris} (mkfile + lofi, root).
     */
    @WithDefault("embedded")
    DriverKind driver();

    /** How long one system command of the linux or solaris driver may take. */
    @WithDefault("60s")
    Duration commandTimeout();

    /** The driver names of {@code szpool.device.driver}. */
    enum DriverKind {
        EMBEDDED,
        LINUX,
        SOLARIS
    }

    /** The NBD listener that serves every attached chunk's decrypted device. */
    Nbd nbd();

    interface Nbd {
        /** Address to bind; loopback unless the pool-service runs elsewhere. */
        @WithDefault("127.0.0.1")
        String host();

        /** TCP port; 0 picks a free one (tests). */
        @WithDefault("10810")
        int port();

        /**
         * Read and write the chunk files of the embedded devices with {@code O_DIRECT} (where the
         * file system allows it): the ciphertext goes to the disk without a copy into the page
         * cache, which cost more CPU than the encryption on the write path (DESIGN.md). Durability
         * is the same either way (FLUSH is an fdatasync); false: through the page cache.
         */
        @WithDefault("true")
        boolean directIo();
    }

    /** Point-in-time views of a pool's chunks for consistent backups (see README, Snapshots). */
    Snapshots snapshots();

    interface Snapshots {
        /**
         * A snapshot older than this is dropped with its side files, so that a consumer that
         * crashed before deleting it cannot fill the disk.
         */
        @WithDefault("1h")
        Duration maxAge();
    }
}
