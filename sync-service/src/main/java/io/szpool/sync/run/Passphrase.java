package io.szpool.sync.run;

import io.szpool.service.PassphraseFiles;
import io.szpool.sync.config.SyncConfig;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The operator's passphrase, from the configured file or {@code SZPOOL_PASSPHRASE}: read when a key
 * slot must be opened, never kept, logged or returned.
 */
@ApplicationScoped
public class Passphrase {
    private final SyncConfig config;

    public Passphrase(SyncConfig config) {
        this.config = config;
    }

    /** A fresh copy the caller must wipe when done. */
    public char[] read() {
        return PassphraseFiles.configured(config.passphraseFile(), "szpool.sync.passphrase-file");
    }
}
