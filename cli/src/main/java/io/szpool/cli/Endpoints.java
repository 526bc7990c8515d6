package io.szpool.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/**
 * Where the services are: a flag, else an environment variable, else the config file (loaded into
 * {@code szpool.*} system properties by {@link Config}), else SPEC.md's local defaults.
 */
final class Endpoints {
    @Option(
            names = "--pool-url",
            defaultValue = "${env:SZPOOL_POOL_URL:-${sys:szpool.pool.url:-http://127.0.0.1:8081}}",
            description = "pool-service (env SZPOOL_POOL_URL; default ${DEFAULT-VALUE}).")
    URI pool;

    @Option(
            names = "--device-url",
            defaultValue =
                    "${env:SZPOOL_DEVICE_URL:-${sys:szpool.device.url:-http://127.0.0.1:8082}}",
            description =
                    "crypto-device-service (env SZPOOL_DEVICE_URL; default ${DEFAULT-VALUE}).")
    URI device;

    @Option(
            names = "--sync-url",
            defaultValue = "${env:SZPOOL_SYNC_URL:-${sys:szpool.sync.url:-http://127.0.0.1:8083}}",
            description = "sync-service (env SZPOOL_SYNC_URL; default ${DEFAULT-VALUE}).")
    URI sync;

    @Option(
            names = {"--catalog-url", "--catalog"},
            defaultValue =
                    "${env:SZPOOL_CATALOG_URL:-${env:SZPOOL_CATALOG:-${sys:szpool.catalog.url:-http://127.0.0.1:8080}}}",
            description = "catalog-service (env SZPOOL_CATALOG_URL; default ${DEFAULT-VALUE}).")
    URI catalog;

    Rest pools() {
        return new Rest("pool-service", "--pool-url", pool);
    }

    Rest devices() {
        return new Rest("crypto-device-service", "--device-url", device);
    }

    Rest syncs() {
        return new Rest("sync-service", "--sync-url", sync);
    }

    Rest catalogs() {
        return new Rest("catalog-service", "--catalog-url", catalog);
    }
}
