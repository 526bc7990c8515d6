package io.szpool.sync.messaging;

/** Channel names of sync-service, shared by code, configuration and tests. */
public final class SyncChannels {
    /** Outgoing: SyncStarted, ChunkSynced, ... on {@code szpool.sync-events}. */
    public static final String SYNC_EVENTS = "sync-events";

    /** Incoming: SyncPool from {@code szpool.commands}. */
    public static final String COMMANDS = "commands";

    /** Incoming: PoolGrown (and the rest, ignored) from {@code szpool.pool-events}. */
    public static final String POOL_EVENTS = "pool-events";

    private SyncChannels() {}
}
