package io.szpool.events;

/** The Kafka topics of szpool; code and tests name them only through these constants. */
public final class Topics {
    public static final String DEVICE_EVENTS = "szpool.device-events";
    public static final String POOL_EVENTS = "szpool.pool-events";
    public static final String SYNC_EVENTS = "szpool.sync-events";
    public static final String COMMANDS = "szpool.commands";
    public static final String DEAD_LETTERS = "szpool.dead-letters";

    private Topics() {}
}
