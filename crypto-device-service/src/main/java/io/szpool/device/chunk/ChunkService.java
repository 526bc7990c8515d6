package io.szpool.device.chunk;

import io.quarkus.runtime.StartupEvent;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.XtsKey;
import io.szpool.device.driver.DeviceDriver;
import io.szpool.device.key.PoolKeyring;
import io.szpool.device.messaging.DeviceChannels;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.DeviceEvent.ChunkDestroyed;
import io.szpool.events.DeviceEvent.ChunkDetached;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.Event;
import io.szpool.service.EventPublisher;
import io.szpool.service.ProblemException;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

/**
 * The life of this host's chunks: provision (file, record, key, device), attach, detach, destroy,
 * each announced on {@code szpool.device-events}. Provisioning is idempotent per request id and all
 * or nothing: a failure removes what the request made and reports {@code ChunkFailed}.
 */
@ApplicationScoped
public class ChunkService {
    private static final Logger LOG = Logger.getLogger(ChunkService.class);
    private final ChunkFiles files;
    private final ChunkRegistry registry;
    private final PoolKeyring keys;
    private final DeviceDriver devices;
    private final EventPublisher publisher;
    private final Emitter<String> deviceEvents;

    public ChunkService(
            ChunkFiles files,
            ChunkRegistry registry,
            PoolKeyring keys,
            DeviceDriver devices,
            EventPublisher publisher,
            @Channel(DeviceChannels.DEVICE_EVENTS) Emitter<String> deviceEvents) {
        this.files = files;
        this.registry = registry;
        this.keys = keys;
        this.devices = devices;
        this.publisher = publisher;
        this.deviceEvents = deviceEvents;
    }

    /** A chunk with its device state, as callers see it. */
    public record ChunkStatus(ChunkRecord record, String path, String deviceAddress) {}

    /**
     * Creates and attaches the chunks of a request. A request id seen before returns the chunks it
     * made, creating nothing.
     */
    public synchronized List<ChunkStatus> provision(ChunkSpec spec, String requestId) {
        List<ChunkRecord> earlier = registry.byRequest(requestId);
        if (!earlier.isEmpty()) {
            if (!earlier.get(0).poolId().equals(spec.poolId()) || earlier.size() != spec.count()) {
                throw ProblemException.conflict(
                        "request " + requestId + " was already used for a different provisioning");
            }
            return earlier.stream().map(this::status).toList();
        }
        List<ChunkRecord> made = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        try {
            files.checkSpace(spec);
            MasterKey master = keys.masterKey(spec.poolId(), true);
            for (int i = 0; i < spec.count(); i++) {
                String chunkId = files.create(spec);
                ChunkRecord record =
                        new ChunkRecord(
                                chunkId,
                                spec.poolId(),
                                spec.sizeBytes(),
                                spec.sparse(),
                                master.keyId(),
                                requestId,
                                true,
                                Instant.now(),
                                null);
                registry.save(record);
                made.add(record);
                events.add(created(record));
            }
            for (ChunkRecord record : made) {
                events.add(attachDevice(record));
            }
        } catch (IOException | RuntimeException e) {
            String reason = failureReason(e, made.size(), spec.count());
            removeAll(made);
            publishQuietly(
                    new ChunkFailed(null, spec.poolId(), publisher.hostId(), requestId, reason));
            if (e instanceof ProblemException p) {
                throw p;
            }
            throw new IllegalStateException(reason, e);
        }
        publishAll(events);
        LOG.infof(
                "provisioned %d chunks of %d bytes for pool %s (request %s)",
                made.size(), spec.sizeBytes(), spec.poolId(), requestId);
        return made.stream().map(this::status).toList();
    }

    /** A chunk taken over from a restored folder, with what the restore found of its image. */
    public record AdoptedChunk(ChunkStatus status, String restored) {}

    /**
     * Takes over the chunks of a folder a restore laid out (see {@link RestoredFolder}) and
     * attaches them: intact and damaged images move in as they are (the pool's checksums find the
     * damage), a missing one becomes a fresh sparse file of its size for the pool to rebuild into.
     * Everything is checked before the first file moves: the key slot must open with this service's
     * passphrase (403) and agree with this host's slot of the pool (409); a chunk id this host
     * already uses for a different chunk is a 409. Adopting the same folder again changes nothing
     * and answers the same.
     */
    public synchronized List<AdoptedChunk> adopt(RestoredFolder folder) {
        PoolKeyring.ForeignSlot slot = keys.openForeign(folder.poolId(), folder.slotFile());
        List<RestoredFolder.Entry> fresh = new ArrayList<>();
        for (RestoredFolder.Entry entry : folder.entries()) {
            ChunkRecord r = entry.record();
            if (r.keyId() != null && !r.keyId().equals(slot.keyId())) {
                throw ProblemException.badRequest(
                        "records/"
                                + r.chunkId()
                                + ".json says key "
                                + r.keyId()
                                + ", the folder's key slot holds key "
                                + slot.keyId());
            }
            ChunkRecord here = registry.find(r.chunkId()).orElse(null);
            if (here == null) {
                fresh.add(entry);
            } else if (!here.sameChunkAs(withKey(r, slot.keyId()))) {
                throw ProblemException.conflict(
                        "chunk id "
                                + r.chunkId()
                                + " is in use on this host by a chunk of pool "
                                + here.poolId()
                                + " ("
                                + here.sizeBytes()
                                + " bytes); nothing was adopted");
            }
        }
        keys.install(slot);
        List<Runnable> undo = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        try {
            for (RestoredFolder.Entry entry : fresh) {
                events.addAll(adoptOne(entry, slot.keyId(), undo));
            }
        } catch (IOException | RuntimeException e) {
            for (int i = undo.size() - 1; i >= 0; i--) {
                undo.get(i).run();
            }
            keys.uninstall(slot);
            throw new IllegalStateException(
                    "adopting " + folder.root() + " failed and was undone: " + e.getMessage(), e);
        }
        publishAll(events);
        if (!fresh.isEmpty()) {
            LOG.infof(
                    "adopted %d chunks of pool %s from %s",
                    fresh.size(), folder.poolId(), folder.root());
        }
        return folder.entries().stream()
                .map(e -> registry.find(e.record().chunkId()).orElseThrow())
                .map(r -> new AdoptedChunk(status(r), r.restored()))
                .toList();
    }

    private List<Event> adoptOne(RestoredFolder.Entry entry, String keyId, List<Runnable> undo)
            throws IOException {
        ChunkRecord source = entry.record();
        String chunkId = source.chunkId();
        Path file;
        if (entry.image() == null) {
            file = registry.chunkFile(chunkId);
            Files.createDirectories(file.getParent());
            devices.createFile(file, source.sizeBytes(), true);
            undo.add(() -> deleteQuietly(registry.chunkFile(chunkId)));
        } else {
            file = files.moveIn(entry.image(), chunkId);
            undo.add(() -> moveBackQuietly(chunkId, entry.image()));
            if (RestoredFolder.DAMAGED.equals(entry.restored())) {
                ChunkFiles.resize(file, source.sizeBytes());
            }
        }
        ChunkRecord record =
                new ChunkRecord(
                        chunkId,
                        source.poolId(),
                        source.sizeBytes(),
                        source.sparse(),
                        keyId,
                        source.requestId() == null
                                ? "adopt-" + source.poolId()
                                : source.requestId(),
                        true,
                        source.createdAt() == null ? Instant.now() : source.createdAt(),
                        entry.restored());
        registry.save(record);
        undo.add(() -> registry.forget(chunkId));
        ChunkAttached attached = attachDevice(record);
        undo.add(() -> detachQuietly(chunkId));
        return List.of(created(record), attached);
    }

    private static ChunkRecord withKey(ChunkRecord r, String keyId) {
        return r.keyId() != null
                ? r
                : new ChunkRecord(
                        r.chunkId(),
                        r.poolId(),
                        r.sizeBytes(),
                        r.sparse(),
                        keyId,
                        r.requestId(),
                        r.attached(),
                        r.createdAt(),
                        r.restored());
    }

    private void moveBackQuietly(String chunkId, Path back) {
        try {
            files.moveOut(chunkId, back);
        } catch (IOException e) {
            LOG.errorf("cannot move chunk %s back to %s: %s", chunkId, back, e.getMessage());
        }
    }

    private void detachQuietly(String chunkId) {
        try {
            devices.detach(chunkId, registry.chunkFile(chunkId));
        } catch (IOException e) {
            LOG.errorf("cannot detach chunk %s: %s", chunkId, e.getMessage());
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.errorf("cannot delete %s: %s", file, e.getMessage());
        }
    }

    public List<ChunkStatus> list() {
        return registry.all().stream().map(this::status).toList();
    }

    public ChunkStatus get(String chunkId) {
        return status(existing(chunkId));
    }

    public synchronized ChunkStatus attach(String chunkId) {
        ChunkRecord record = existing(chunkId);
        ChunkAttached attached;
        try {
            attached = attachDevice(record);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot attach chunk " + chunkId, e);
        }
        registry.save(record.withAttached(true));
        publishAll(List.of(attached));
        return get(chunkId);
    }

    public synchronized ChunkStatus detach(String chunkId) {
        ChunkRecord record = existing(chunkId);
        try {
            devices.detach(chunkId, registry.chunkFile(chunkId));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot flush chunk " + chunkId + " while detaching", e);
        }
        registry.save(record.withAttached(false));
        publishAll(
                List.of(
                        new ChunkDetached(
                                chunkId, record.poolId(), publisher.hostId(), "operator")));
        return get(chunkId);
    }

    /**
     * Removes a chunk file for good. While the chunk's device is attached it may be part of a live
     * pool, so that takes {@code force}.
     */
    public synchronized void destroy(String chunkId, boolean force) {
        ChunkRecord record = existing(chunkId);
        if (address(chunkId) != null && !force) {
            throw ProblemException.conflict(
                    "chunk "
                            + chunkId
                            + " is attached and may belong to an imported pool; detach it"
                            + " first or destroy with force=true");
        }
        try {
            devices.detach(chunkId, registry.chunkFile(chunkId));
            registry.remove(chunkId);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot destroy chunk " + chunkId, e);
        }
        publishAll(List.of(new ChunkDestroyed(chunkId, record.poolId(), publisher.hostId())));
    }

    /**
     * Destroys a chunk if this host has it; false if it has not, which is not an error: a
     * redelivered or repeated destroy command finds the chunk gone already.
     */
    public synchronized boolean destroyIfPresent(String chunkId, boolean force) {
        if (registry.find(chunkId).isEmpty()) {
            return false;
        }
        destroy(chunkId, force);
        return true;
    }

    /**
     * After a restart, brings back every device that was attached when the service stopped. Runs at
     * application priority, after the messaging channels are wired at library priority.
     */
    void reattach(@Observes @Priority(Interceptor.Priority.APPLICATION) StartupEvent event) {
        for (ChunkRecord record : registry.all()) {
            if (!record.attached()) {
                continue;
            }
            try {
                publishAll(List.of(attachDevice(record)));
            } catch (IOException | RuntimeException e) {
                LOG.errorf(
                        "cannot re-attach chunk %s of pool %s: %s",
                        record.chunkId(), record.poolId(), e.getMessage());
            }
        }
    }

    private ChunkAttached attachDevice(ChunkRecord record) throws IOException {
        try (XtsKey key = keys.chunkKey(record.poolId(), record.chunkId())) {
            String address =
                    devices.attach(record.chunkId(), registry.chunkFile(record.chunkId()), key);
            return new ChunkAttached(
                    record.chunkId(), record.poolId(), publisher.hostId(), address);
        }
    }

    private ChunkRecord existing(String chunkId) {
        return registry.find(chunkId)
                .orElseThrow(
                        () -> ProblemException.notFound("no chunk " + chunkId + " on this host"));
    }

    private ChunkStatus status(ChunkRecord record) {
        return new ChunkStatus(
                record, registry.chunkFile(record.chunkId()).toString(), address(record.chunkId()));
    }

    /** The chunk's device address, or null while detached. */
    private String address(String chunkId) {
        try {
            return devices.address(chunkId, registry.chunkFile(chunkId)).orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot tell whether chunk " + chunkId + " is attached", e);
        }
    }

    private ChunkCreated created(ChunkRecord record) {
        return new ChunkCreated(
                record.chunkId(),
                record.poolId(),
                publisher.hostId(),
                registry.chunkFile(record.chunkId()).toString(),
                record.sizeBytes(),
                record.sparse(),
                devices.cipher(),
                record.keyId(),
                devices.kind());
    }

    private void removeAll(List<ChunkRecord> made) {
        for (ChunkRecord record : made) {
            try {
                devices.detach(record.chunkId(), registry.chunkFile(record.chunkId()));
                registry.remove(record.chunkId());
            } catch (IOException e) {
                LOG.errorf(
                        "cannot remove chunk %s after a failed request: %s",
                        record.chunkId(), e.getMessage());
            }
        }
    }

    private static String failureReason(Exception e, int made, int count) {
        String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return "provisioning failed after " + made + " of " + count + " chunks: " + what;
    }

    private void publishAll(List<Event> events) {
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (Event event : events) {
            sent.add(publisher.publish(deviceEvents, event).toCompletableFuture());
        }
        try {
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the broker did not take the device events", e);
        }
    }

    /** Tells the requester that a provisioning request was refused before it made anything. */
    public void refused(String poolId, String requestId, String reason) {
        publishQuietly(new ChunkFailed(null, poolId, publisher.hostId(), requestId, reason));
    }

    private void publishQuietly(Event event) {
        try {
            publishAll(List.of(event));
        } catch (RuntimeException e) {
            LOG.errorf("cannot report %s: %s", event, e.getMessage());
        }
    }
}
