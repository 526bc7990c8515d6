package io.szpool.pool.driver;

import io.szpool.pool.config.PoolConfig;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Picks the pool driver named by {@code szpool.pool.driver}. */
@Singleton
public class PoolDrivers {

    @Produces
    @Singleton
    PoolDriver driver(PoolConfig config) {
        return switch (config.driver()) {
            case EMBEDDED -> new EmbeddedDriver();
            case ZFS ->
                    new ZfsDriver(
                            new CommandRunner(config.zfs().commandTimeout()),
                            config.zfs().command(),
                            config.zfs().importDir());
        };
    }
}
