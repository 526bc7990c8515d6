package io.szpool.sync.run;

import io.szpool.service.ProblemException;
import io.szpool.sync.config.SyncConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The operator's passphrase, from the configured file or {@code SZPOOL_PASSPHRASE}: read when a key
 * slot must be opened, never kept, logged or returned.
 */
@ApplicationScoped
public class Passphrase {
    static final String ENV = "SZPOOL_PASSPHRASE";
    private final SyncConfig config;

    public Passphrase(SyncConfig config) {
        this.config = config;
    }

    /** A fresh copy the caller must wipe when done. */
    public char[] read() {
        if (config.passphraseFile().isPresent()) {
            Path file = config.passphraseFile().get();
            try {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                if (lines.isEmpty() || lines.get(0).isEmpty()) {
                    throw unavailable("the passphrase file " + file + " is empty");
                }
                return lines.get(0).toCharArray();
            } catch (IOException e) {
                throw unavailable(
                        "cannot read the passphrase file " + file + ": " + e.getMessage());
            }
        }
        String env = System.getenv(ENV);
        if (env == null || env.isEmpty()) {
            throw unavailable(
                    "no passphrase: set szpool.sync.passphrase-file or the environment variable "
                            + ENV);
        }
        return env.toCharArray();
    }

    private static ProblemException unavailable(String detail) {
        return new ProblemException(503, "Service Unavailable", detail);
    }
}
