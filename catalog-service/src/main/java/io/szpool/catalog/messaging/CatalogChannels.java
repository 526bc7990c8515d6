package io.szpool.catalog.messaging;

/** Channel names of catalog-service, shared by code, configuration and tests. */
public final class CatalogChannels {
    /** Incoming: {@code szpool.device-events}. */
    public static final String DEVICE_EVENTS = "device-events";

    private CatalogChannels() {}
}
