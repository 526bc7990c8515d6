package io.szpool.catalog.messaging;

/** Channel names of catalog-service, shared by code, configuration and tests. */
public final class CatalogChannels {
    /** Incoming: {@code szpool.device-events}. */
    public static final String DEVICE_EVENTS = "device-events";

    /** Incoming: {@code szpool.pool-events}. */
    public static final String POOL_EVENTS = "pool-events";

    /** Incoming: {@code szpool.sync-events}. */
    public static final String SYNC_EVENTS = "sync-events";

    /** Incoming: {@code szpool.commands}, for the audit trail. */
    public static final String COMMANDS = "commands";

    private CatalogChannels() {}
}
