package io.szpool.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The config file: {@code SZPOOL_CONFIG}, else {@code ~/.config/szpool/szpool.properties}. `szpool
 * up` writes one into its data folder. Its keys ({@code pool.url}, {@code kafka}, {@code data}...)
 * become {@code szpool.*} system properties, which flags and environment variables override.
 */
final class Config {
    private Config() {}

    static void load() {
        String named = System.getenv("SZPOOL_CONFIG");
        Path file =
                named != null && !named.isBlank()
                        ? Path.of(named)
                        : Path.of(
                                System.getProperty("user.home"),
                                ".config/szpool/szpool.properties");
        if (!Files.isRegularFile(file)) {
            if (named != null && !named.isBlank()) {
                throw new CliException(
                        "SZPOOL_CONFIG names " + file + ", which does not exist",
                        CliException.BAD_INPUT);
            }
            return;
        }
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
        } catch (IOException e) {
            throw new CliException("cannot read the config file " + file + ": " + e.getMessage());
        }
        for (String key : p.stringPropertyNames()) {
            if (System.getProperty("szpool." + key) == null) {
                System.setProperty("szpool." + key, p.getProperty(key).trim());
            }
        }
    }

    /** The data folder of the local stack, for what lives on this host (mounts, keys). */
    static Path data() {
        String d = System.getProperty("szpool.data");
        return Path.of(d != null ? d : "var").toAbsolutePath();
    }
}
