package io.szpool.device.messaging;

/** Channel names of crypto-device-service, shared by code, configuration and tests. */
public final class DeviceChannels {
    /** Outgoing: ChunkCreated, ChunkAttached, ... on {@code szpool.device-events}. */
    public static final String DEVICE_EVENTS = "device-events";

    /** Incoming: ProvisionChunks and DestroyChunks from {@code szpool.commands}. */
    public static final String COMMANDS = "commands";

    private DeviceChannels() {}
}
