package io.szpool.events;

import static io.szpool.events.Fields.nonNegative;
import static io.szpool.events.Fields.required;

import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;

/** What crypto-device-service reports about chunk files and their encrypted devices. */
@Topic(Topics.DEVICE_EVENTS)
public sealed interface DeviceEvent extends Event {

    /** A chunk file exists on a host; its device is not up yet. */
    @EventType("io.szpool.chunk.created.v1")
    record ChunkCreated(
            String chunkId,
            String poolId,
            String hostId,
            String path,
            long sizeBytes,
            boolean sparse,
            Cipher cipher,
            String keyId,
            Driver driver)
            implements DeviceEvent {
        public ChunkCreated {
            required(chunkId, "chunkId");
            required(poolId, "poolId");
            required(hostId, "hostId");
            required(path, "path");
            nonNegative(sizeBytes, "sizeBytes");
            required(cipher, "cipher");
            required(keyId, "keyId");
            required(driver, "driver");
        }
    }

    /**
     * A chunk's encrypted device is up at {@code deviceAddress} (nbd://, /dev/mapper/, /dev/lofi/).
     */
    @EventType("io.szpool.chunk.attached.v1")
    record ChunkAttached(String chunkId, String poolId, String hostId, String deviceAddress)
            implements DeviceEvent {
        public ChunkAttached {
            required(chunkId, "chunkId");
            required(poolId, "poolId");
            required(hostId, "hostId");
            required(deviceAddress, "deviceAddress");
        }
    }

    /** A chunk's device is down; the chunk file stays. */
    @EventType("io.szpool.chunk.detached.v1")
    record ChunkDetached(String chunkId, String poolId, String hostId, String reason)
            implements DeviceEvent {
        public ChunkDetached {
            required(chunkId, "chunkId");
            required(poolId, "poolId");
            required(hostId, "hostId");
        }
    }

    /**
     * A chunk could not be provisioned or its device failed. {@code chunkId} is absent when the
     * failure hit a provisioning request before any chunk existed.
     */
    @EventType("io.szpool.chunk.failed.v1")
    record ChunkFailed(
            String chunkId, String poolId, String hostId, String requestId, String reason)
            implements DeviceEvent {
        public ChunkFailed {
            required(poolId, "poolId");
            required(hostId, "hostId");
            required(reason, "reason");
        }
    }

    /** A chunk file and its key material are gone for good. */
    @EventType("io.szpool.chunk.destroyed.v1")
    record ChunkDestroyed(String chunkId, String poolId, String hostId) implements DeviceEvent {
        public ChunkDestroyed {
            required(chunkId, "chunkId");
            required(poolId, "poolId");
            required(hostId, "hostId");
        }
    }
}
