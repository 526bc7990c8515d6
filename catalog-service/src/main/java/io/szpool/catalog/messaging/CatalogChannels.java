package io.szpool.catalog.messaging;

/** Channel names of catalog-service, shared by code, configuration and tests. */
public final class CatalogChannels {
    /**
     * Incoming: {@code szpool.device-events}, {@code szpool.pool-events} and {@code
     * szpool.sync-events} together, so that partition k of the three topics, which holds every
     * event of the same pools, is read by one consumer (DESIGN.md, "Flow").
     */
    public static final String FLEET_EVENTS = "fleet-events";

    /** Incoming: {@code szpool.commands}, for the audit trail. */
    public static final String COMMANDS = "commands";

    private CatalogChannels() {}
}
