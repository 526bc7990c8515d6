package io.szpool.device.chunk;

import io.szpool.device.messaging.DeviceChannels;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import io.szpool.service.EventPublisher;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

/**
 * Creates the chunk files of a request and announces each with {@code ChunkCreated}. All or
 * nothing: a failure at chunk 5 of 6 removes the four it made before reporting.
 */
@ApplicationScoped
public class ChunkProvisioner {
    private static final Logger LOG = Logger.getLogger(ChunkProvisioner.class);
    private final ChunkFiles files;
    private final EventPublisher publisher;
    private final Emitter<String> deviceEvents;

    public ChunkProvisioner(
            ChunkFiles files,
            EventPublisher publisher,
            @Channel(DeviceChannels.DEVICE_EVENTS) Emitter<String> deviceEvents) {
        this.files = files;
        this.publisher = publisher;
        this.deviceEvents = deviceEvents;
    }

    public List<ProvisionedChunk> provision(ChunkSpec spec) {
        files.checkSpace(spec);
        List<ProvisionedChunk> made = new ArrayList<>();
        try {
            for (int i = 0; i < spec.count(); i++) {
                made.add(files.create(spec));
            }
        } catch (IOException e) {
            removeAll(made);
            throw new UncheckedIOException(
                    "cannot create chunk " + (made.size() + 1) + " of " + spec.count(), e);
        }
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (ProvisionedChunk chunk : made) {
            sent.add(publisher.publish(deviceEvents, created(chunk)).toCompletableFuture());
        }
        try {
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("chunks created but their events were not sent", e);
        }
        LOG.infof(
                "provisioned %d chunks of %d bytes for pool %s",
                made.size(), spec.sizeBytes(), spec.poolId());
        return made;
    }

    private ChunkCreated created(ProvisionedChunk chunk) {
        return new ChunkCreated(
                chunk.chunkId(),
                chunk.poolId(),
                publisher.hostId(),
                chunk.path().toString(),
                chunk.sizeBytes(),
                chunk.sparse(),
                Cipher.AES_XTS_PLAIN64,
                keyId(chunk),
                Driver.EMBEDDED);
    }

    /** The chunk's key is derived from its pool's master key, bound to the chunk id. */
    private static String keyId(ProvisionedChunk chunk) {
        return chunk.poolId() + "/" + chunk.chunkId();
    }

    private void removeAll(List<ProvisionedChunk> made) {
        for (ProvisionedChunk chunk : made) {
            try {
                files.delete(chunk);
            } catch (IOException e) {
                LOG.errorf(
                        "cannot remove chunk file %s after a failed request: %s", chunk.path(), e);
            }
        }
    }
}
