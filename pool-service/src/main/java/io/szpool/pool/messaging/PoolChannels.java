package io.szpool.pool.messaging;

/** Channel names of pool-service, shared by code, configuration and tests. */
public final class PoolChannels {
    /** Outgoing: PoolCreated, PoolGrown, ... on {@code szpool.pool-events}. */
    public static final String POOL_EVENTS = "pool-events";

    /** Outgoing: ProvisionChunks, DestroyChunks, GrowPool on {@code szpool.commands}. */
    public static final String COMMANDS_OUT = "commands-out";

    /** Incoming: GrowPool addressed to this host, from {@code szpool.commands}. */
    public static final String COMMANDS = "commands";

    /** Incoming: ChunkAttached and ChunkFailed from {@code szpool.device-events}. */
    public static final String DEVICE_EVENTS = "device-events";

    private PoolChannels() {}
}
