package io.szpool.device.key;

import io.szpool.device.config.DeviceConfig;
import io.szpool.service.PassphraseFiles;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The operator's passphrase, from the configured file or {@code SZPOOL_PASSPHRASE}, or (for a
 * passphrase change) from a file the operator names. It is read when a key slot must be opened or
 * sealed and never kept, logged or returned.
 */
@ApplicationScoped
public class Passphrase {
    private final DeviceConfig config;

    public Passphrase(DeviceConfig config) {
        this.config = config;
    }

    /** The configured passphrase: a fresh copy the caller must wipe (Arrays.fill) when done. */
    public char[] read() {
        return PassphraseFiles.configured(config.passphraseFile(), "szpool.device.passphrase-file");
    }

    /** See {@link PassphraseFiles#operatorFile}: a fresh copy the caller must wipe. */
    public char[] readOperatorFile(String path, String what) {
        return PassphraseFiles.operatorFile(path, what);
    }
}
