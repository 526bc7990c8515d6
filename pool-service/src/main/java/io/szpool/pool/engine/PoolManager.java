package io.szpool.pool.engine;

import io.quarkus.runtime.StartupEvent;
import io.szpool.events.Command.DestroyChunks;
import io.szpool.events.Command.GrowPool;
import io.szpool.events.Command.ProvisionChunks;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.Event;
import io.szpool.events.PoolEvent.PoolCapacityAlert;
import io.szpool.events.PoolEvent.PoolCreated;
import io.szpool.events.PoolEvent.PoolDestroyed;
import io.szpool.events.PoolEvent.PoolExported;
import io.szpool.events.PoolEvent.PoolGrown;
import io.szpool.events.PoolEvent.PoolHealthChanged;
import io.szpool.events.PoolEvent.PoolImported;
import io.szpool.events.PoolEvent.PoolScrubbed;
import io.szpool.events.Vocabulary;
import io.szpool.events.Vocabulary.GrowthTrigger;
import io.szpool.events.Vocabulary.Layout;
import io.szpool.nbd.ListenerConfig;
import io.szpool.nbd.NbdServer;
import io.szpool.pool.config.PoolConfig;
import io.szpool.pool.discovery.DeviceServiceClient;
import io.szpool.pool.driver.ChunkCandidate;
import io.szpool.pool.driver.Discovery;
import io.szpool.pool.driver.LivePool;
import io.szpool.pool.driver.PoolDriver;
import io.szpool.pool.messaging.PoolChannels;
import io.szpool.pool.store.PoolRecord;
import io.szpool.pool.store.PoolRecord.ChunkRef;
import io.szpool.pool.store.PoolRecord.Saga;
import io.szpool.pool.store.PoolRecord.SagaKind;
import io.szpool.pool.store.PoolRecord.State;
import io.szpool.pool.store.PoolStore;
import io.szpool.raidz.Health;
import io.szpool.raidz.ScrubResult;
import io.szpool.service.EventPublisher;
import io.szpool.service.ProblemException;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

/**
 * The pools of this host: the create and grow sagas over Kafka, the live RAID-Z2 engines and their
 * NBD exports, import/export/destroy, restart recovery, health and capacity watching.
 *
 * <p>One lock (this object) guards the records and the live pools; every change is saved to the
 * store before the event or command that follows it is sent, so a restart finds at least what the
 * rest of the fleet was told. Scrub runs outside the lock.
 */
@ApplicationScoped
public class PoolManager {
    private static final Logger LOG = Logger.getLogger(PoolManager.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final long MIB = 1L << 20;
    private static final long MIN_CHUNK = 64 * MIB;
    private static final long MAX_CHUNK = 1L << 40;
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

    private final PoolConfig config;
    private final PoolStore store;
    private final EventPublisher publisher;
    private final Emitter<String> poolEvents;
    private final Emitter<String> commands;
    private final PoolDriver driver;
    private final DeviceServiceClient deviceService;

    private final Map<String, PoolRecord> records = new LinkedHashMap<>(); // by name
    private final Map<String, LivePool> live = new HashMap<>(); // by name
    private final Map<String, Freeze> frozen = new HashMap<>(); // by name
    private final Set<String> scrubbing = new HashSet<>(); // by name
    private final Map<String, CompletableFuture<PoolRecord>> waiting = new HashMap<>(); // by name
    private Set<String> tombstones;
    private NbdServer nbd;
    private NbdServer.Listener listener;
    private ScheduledExecutorService ticker;
    private Instant nextCapacityCheck = Instant.EPOCH;

    public PoolManager(
            PoolConfig config,
            PoolStore store,
            EventPublisher publisher,
            @Channel(PoolChannels.POOL_EVENTS) Emitter<String> poolEvents,
            @Channel(PoolChannels.COMMANDS_OUT) Emitter<String> commands,
            PoolDriver driver,
            DeviceServiceClient deviceService) {
        this.config = config;
        this.deviceService = deviceService;
        this.store = store;
        this.publisher = publisher;
        this.poolEvents = poolEvents;
        this.commands = commands;
        this.driver = driver;
    }

    // ---------------------------------------------------------------- start and stop

    /**
     * Loads the saved pools, serves the NBD listener, imports the pools that were imported and
     * resumes the sagas that were in flight (with a fresh timeout: their chunks may still arrive).
     * Runs after the messaging channels are wired (library priority).
     */
    void start(@Observes @Priority(Interceptor.Priority.APPLICATION) StartupEvent e)
            throws IOException {
        ensureStarted();
    }

    /** Consumers may deliver before the startup event: whoever comes first starts. */
    private synchronized void ensureStarted() throws IOException {
        if (ticker != null) {
            return;
        }
        tombstones = store.tombstones();
        nbd = new NbdServer();
        listener =
                nbd.listen(
                        ListenerConfig.loopback(0)
                                .withAddress(
                                        new InetSocketAddress(
                                                config.nbd().host(), config.nbd().port())));
        for (PoolRecord r : store.loadAll()) {
            records.put(r.name, r);
        }
        for (PoolRecord r : List.copyOf(records.values())) {
            if (r.state == State.IMPORTED) {
                tryOpen(r);
            }
            if (r.saga != null) {
                Instant fresh = Instant.now().plus(config.sagaTimeout());
                if (r.saga.deadline.isBefore(fresh)) {
                    r.saga.deadline = fresh;
                }
                store.save(r);
                LOG.infof("resuming %s saga of pool %s", r.saga.kind, r.name);
                sendProvisions(r);
                advance(r);
            }
        }
        ticker =
                Executors.newSingleThreadScheduledExecutor(
                        runnable -> {
                            Thread t = new Thread(runnable, "pool-ticker");
                            t.setDaemon(true);
                            return t;
                        });
        ticker.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
        LOG.infof(
                "pool driver %s; pool volumes served over NBD on %s",
                driver.name(), listener.address());
    }

    @PreDestroy
    synchronized void stop() {
        if (ticker != null) {
            ticker.shutdownNow();
        }
        for (String name : List.copyOf(live.keySet())) {
            closeLive(name);
        }
        if (nbd != null) {
            nbd.close();
        }
    }

    /** The NBD port pool volumes are served on (useful when configured as 0). */
    public synchronized int nbdPort() {
        return listener.port();
    }

    public synchronized String nbdHost() {
        return listener.address().getAddress().getHostAddress();
    }

    // ---------------------------------------------------------------- queries

    /** A pool's record and, when imported here, the driver's pool. */
    public record Snapshot(PoolRecord record, LivePool pool) {}

    public String driverName() {
        return driver.name();
    }

    public synchronized List<Snapshot> list() {
        return records.values().stream().map(r -> new Snapshot(r, live.get(r.name))).toList();
    }

    public synchronized Snapshot get(String name) {
        PoolRecord r = existing(name);
        return new Snapshot(r, live.get(name));
    }

    public long effectiveMaxSize(PoolRecord r) {
        return r.maxSizeBytes != null ? r.maxSizeBytes : config.autoGrow().maxSizeBytes();
    }

    public boolean effectiveAutoGrow(PoolRecord r) {
        return r.autoGrow != null ? r.autoGrow : config.autoGrow().enabled();
    }

    public int effectiveThreshold(PoolRecord r) {
        return r.thresholdPercent != null
                ? r.thresholdPercent
                : config.capacity().thresholdPercent();
    }

    // ---------------------------------------------------------------- create and grow

    /** Starts building a pool; the returned stage completes when it is served or rolled back. */
    public synchronized CompletableFuture<PoolRecord> create(
            String name, int width, long chunkSizeBytes, int vdevs) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ProblemException.badRequest(
                    "name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter"
                            + " or digit; was "
                            + (name == null ? "absent" : "'" + name + "'"));
        }
        if (width < 4 || width > 64) {
            throw ProblemException.badRequest(
                    "width must be 4 to 64 devices per raidz2 vdev, was " + width);
        }
        if (vdevs < 1 || vdevs > 16) {
            throw ProblemException.badRequest("vdevs must be 1 to 16, was " + vdevs);
        }
        checkChunkSize(chunkSizeBytes);
        if (records.containsKey(name)) {
            throw ProblemException.conflict("pool '" + name + "' exists on this host");
        }
        PoolRecord r = new PoolRecord();
        r.poolId = UUID.randomUUID().toString();
        r.name = name;
        r.width = width;
        r.chunkSizeBytes = chunkSizeBytes;
        r.state = State.CREATING;
        r.createdAt = Instant.now();
        r.saga = newSaga(r, SagaKind.CREATE, 0, vdevs, GrowthTrigger.OPERATOR);
        records.put(name, r);
        store.save(r);
        CompletableFuture<PoolRecord> done = new CompletableFuture<>();
        waiting.put(name, done);
        try {
            sendProvisions(r);
        } catch (RuntimeException e) {
            rollback(r, SagaFailure.buildFailed("pool '" + name + "'", e.getMessage()));
        }
        return done;
    }

    /** Starts adding {@code vdevs} vdevs; completes when they serve or the growth rolled back. */
    public synchronized CompletableFuture<PoolRecord> grow(
            String name, int vdevs, GrowthTrigger trigger) {
        if (vdevs < 1 || vdevs > 16) {
            throw ProblemException.badRequest("vdevs must be 1 to 16, was " + vdevs);
        }
        PoolRecord r = existing(name);
        requireImported(r, "grow");
        if (r.saga != null) {
            throw ProblemException.conflict(
                    "pool '" + name + "' is busy: a " + r.saga.kind + " is in progress");
        }
        if (frozen.containsKey(name)) {
            throw ProblemException.conflict(
                    "pool '" + name + "' is frozen; a new vdev would change its chunks");
        }
        r.saga = newSaga(r, SagaKind.GROW, r.vdevs.size(), vdevs, trigger);
        store.save(r);
        CompletableFuture<PoolRecord> done = new CompletableFuture<>();
        waiting.put(name, done);
        try {
            sendProvisions(r);
        } catch (RuntimeException e) {
            rollback(r, SagaFailure.buildFailed("growth of pool '" + name + "'", e.getMessage()));
        }
        return done;
    }

    /** Carries out a GrowPool command once per request id. */
    public synchronized void growByCommand(GrowPool command) throws IOException {
        ensureStarted();
        PoolRecord r = byId(command.poolId()).orElse(null);
        if (r == null) {
            throw ProblemException.notFound("no pool " + command.poolId() + " on this host");
        }
        if (r.handledCommands.contains(command.requestId())) {
            LOG.infof("GrowPool %s was carried out before", command.requestId());
            return;
        }
        r.handledCommands.add(command.requestId());
        while (r.handledCommands.size() > 64) {
            r.handledCommands.remove(0);
        }
        store.save(r);
        if (r.saga != null || r.state != State.IMPORTED || frozen.containsKey(r.name)) {
            LOG.warnf(
                    "GrowPool %s for pool %s skipped: pool is %s%s%s",
                    command.requestId(),
                    r.name,
                    r.state,
                    r.saga == null ? "" : " with a " + r.saga.kind + " in progress",
                    frozen.containsKey(r.name) ? " and frozen" : "");
            return;
        }
        grow(r.name, command.vdevs(), command.trigger())
                .whenComplete(
                        (ok, failure) -> {
                            if (failure != null) {
                                LOG.warnf(
                                        "GrowPool %s failed: %s",
                                        command.requestId(), failure.getMessage());
                            }
                        });
    }

    private Saga newSaga(
            PoolRecord r, SagaKind kind, int firstVdev, int vdevs, GrowthTrigger trigger) {
        Saga saga = new Saga();
        saga.kind = kind;
        saga.firstVdev = firstVdev;
        saga.vdevs = vdevs;
        saga.attempt = r.sagaAttempts++;
        saga.trigger = trigger;
        saga.deadline = Instant.now().plus(config.sagaTimeout());
        return saga;
    }

    private void sendProvisions(PoolRecord r) {
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (int v = r.saga.firstVdev; v < r.saga.firstVdev + r.saga.vdevs; v++) {
            ProvisionChunks command =
                    new ProvisionChunks(
                            PoolRecord.requestId(r.poolId, v, r.saga.attempt),
                            publisher.hostId(),
                            r.poolId,
                            r.width,
                            r.chunkSizeBytes,
                            true);
            sent.add(publisher.publish(commands, command).toCompletableFuture());
        }
        awaitAll(sent, "ProvisionChunks for pool " + r.name);
    }

    /** A chunk's device is up: a saga's new chunk, a known chunk's new address, or an orphan. */
    public synchronized void onChunkAttached(ChunkAttached e) throws IOException {
        ensureStarted();
        if (!publisher.hostId().equals(e.hostId())) {
            return;
        }
        PoolRecord r = byId(e.poolId()).orElse(null);
        if (r == null) {
            if (tombstones.contains(e.poolId())) {
                LOG.infof("chunk %s of a rolled-back pool turned up; destroying it", e.chunkId());
                destroyChunks(e.poolId(), List.of(e.chunkId()), "late-" + e.chunkId());
            }
            return;
        }
        if (r.owns(e.chunkId())) {
            if (updateAddress(r, e.chunkId(), e.deviceAddress())) {
                store.save(r);
                if (r.state == State.IMPORTED) {
                    // The device service restarted: the old connections are dead. The ticker
                    // imports again within a second, by when the other chunks' new addresses
                    // (announced together) are known too.
                    LOG.infof("chunk %s of pool %s moved; re-importing", e.chunkId(), r.name);
                    closeLive(r.name);
                }
            }
            return;
        }
        if (r.saga == null) {
            LOG.warnf(
                    "chunk %s of pool %s belongs to no saga in flight; destroying it",
                    e.chunkId(), r.name);
            destroyChunks(r.poolId, List.of(e.chunkId()), "orphan-" + e.chunkId());
            return;
        }
        r.saga.chunks.add(new ChunkRef(e.chunkId(), e.deviceAddress()));
        store.save(r);
        advance(r);
    }

    /** The device service refused or failed a provisioning request of a saga in flight. */
    public synchronized void onChunkFailed(ChunkFailed e) throws IOException {
        ensureStarted();
        if (!publisher.hostId().equals(e.hostId())) {
            return;
        }
        PoolRecord r = byId(e.poolId()).orElse(null);
        if (r == null || r.saga == null) {
            return;
        }
        if (e.requestId() != null && !r.saga.requestIds(r.poolId).contains(e.requestId())) {
            return;
        }
        r.saga.failure = e.reason();
        store.save(r);
        advance(r);
    }

    private static boolean updateAddress(PoolRecord r, String chunkId, String address) {
        boolean changed = false;
        for (List<ChunkRef> vdev : r.vdevs) {
            changed |= replaceAddress(vdev, chunkId, address);
        }
        if (r.saga != null) {
            changed |= replaceAddress(r.saga.chunks, chunkId, address);
        }
        return changed;
    }

    private static boolean replaceAddress(List<ChunkRef> refs, String chunkId, String address) {
        for (int i = 0; i < refs.size(); i++) {
            ChunkRef c = refs.get(i);
            if (chunkId.equals(c.chunkId()) && !address.equals(c.deviceAddress())) {
                refs.set(i, new ChunkRef(chunkId, address));
                return true;
            }
        }
        return false;
    }

    /** Moves a saga on: finish when every chunk is there, roll back on refusal or timeout. */
    private void advance(PoolRecord r) {
        Saga saga = r.saga;
        if (saga == null) {
            return;
        }
        String what =
                saga.kind == SagaKind.CREATE
                        ? "pool '" + r.name + "'"
                        : "growth of pool '" + r.name + "'";
        int needed = r.width * saga.vdevs;
        if (saga.failure != null) {
            rollback(r, SagaFailure.refused(what, saga.failure));
        } else if (saga.chunks.size() >= needed) {
            finish(r);
        } else if (Instant.now().isAfter(saga.deadline)) {
            rollback(
                    r,
                    SagaFailure.timedOut(
                            what,
                            publisher.hostId(),
                            config.sagaTimeout().toSeconds(),
                            saga.chunks.size(),
                            needed));
        }
    }

    private void finish(PoolRecord r) {
        Saga saga = r.saga;
        List<List<ChunkRef>> groups = new ArrayList<>();
        for (int v = 0; v < saga.vdevs; v++) {
            groups.add(List.copyOf(saga.chunks.subList(v * r.width, (v + 1) * r.width)));
        }
        try {
            if (saga.kind == SagaKind.CREATE) {
                LivePool pool = driver.create(r.name, addresses(groups));
                pool.flush();
                r.vdevs.addAll(groups);
                r.saga = null;
                r.state = State.IMPORTED;
                serve(r, pool);
                store.save(r);
                publish(
                        new PoolCreated(
                                r.poolId,
                                publisher.hostId(),
                                r.name,
                                Layout.RAIDZ2,
                                r.width,
                                ids(r.vdevs),
                                r.chunkSizeBytes,
                                pool.size()));
                LOG.infof("created pool %s (%s), %d bytes", r.name, r.poolId, pool.size());
            } else {
                LivePool pool = live.get(r.name);
                if (pool == null) {
                    throw new IOException("pool '" + r.name + "' is not imported");
                }
                List<PoolGrown> grown = new ArrayList<>();
                for (int i = 0; i < groups.size(); i++) {
                    int index = saga.firstVdev + i;
                    long before = pool.size();
                    // A restart after the engine added this vdev finds it in the labels already.
                    if (pool.vdevCount() <= index) {
                        pool.addVdev(addresses(List.of(groups.get(i))).get(0));
                    }
                    pool.flush();
                    r.vdevs.add(groups.get(i));
                    grown.add(
                            new PoolGrown(
                                    r.poolId,
                                    publisher.hostId(),
                                    index,
                                    Layout.RAIDZ2,
                                    ids(List.of(groups.get(i))).get(0),
                                    before,
                                    pool.size(),
                                    saga.trigger));
                }
                r.saga = null;
                store.save(r);
                grown.forEach(this::publish);
                LOG.infof(
                        "grew pool %s to %d vdevs, %d bytes", r.name, r.vdevs.size(), pool.size());
            }
            complete(r, null);
        } catch (IOException | RuntimeException e) {
            LOG.errorf(e, "cannot build pool %s", r.name);
            rollback(
                    r,
                    SagaFailure.buildFailed(
                            saga.kind == SagaKind.CREATE
                                    ? "pool '" + r.name + "'"
                                    : "growth of pool '" + r.name + "'",
                            String.valueOf(e.getMessage())));
        }
    }

    /**
     * Undoes a saga: destroys every chunk it got (chunks that arrive later are destroyed when they
     * come), forgets a pool that was being created, and tells the caller and the fleet why.
     */
    private void rollback(PoolRecord r, ProblemException why) {
        Saga saga = r.saga;
        LOG.warnf("rolling back %s of pool %s: %s", saga.kind, r.name, why.getMessage());
        List<String> chunkIds = saga.chunks.stream().map(ChunkRef::chunkId).toList();
        // Tombstone, destroy, then forget: a crash in between redoes the rollback on restart.
        if (saga.kind == SagaKind.CREATE) {
            tombstones.add(r.poolId);
            store.addTombstone(r.poolId);
        }
        if (!chunkIds.isEmpty()) {
            destroyChunks(r.poolId, chunkIds, "rollback-" + saga.attempt);
        }
        if (saga.kind == SagaKind.CREATE) {
            records.remove(r.name);
            store.delete(r);
        } else {
            r.saga = null;
            store.save(r);
        }
        Health now = live.containsKey(r.name) ? live.get(r.name).health() : Health.FAULTED;
        publishQuietly(
                new PoolHealthChanged(
                        r.poolId,
                        publisher.hostId(),
                        saga.kind == SagaKind.CREATE ? null : health(now),
                        health(now),
                        why.getMessage()));
        complete(r, why);
    }

    private void complete(PoolRecord r, ProblemException failure) {
        CompletableFuture<PoolRecord> done = waiting.remove(r.name);
        if (done != null) {
            if (failure == null) {
                done.complete(r);
            } else {
                done.completeExceptionally(failure);
            }
        }
    }

    private void destroyChunks(String poolId, List<String> chunkIds, String why) {
        try {
            awaitAll(
                    List.of(
                            publisher
                                    .publish(
                                            commands,
                                            new DestroyChunks(
                                                    poolId + "/" + why,
                                                    publisher.hostId(),
                                                    poolId,
                                                    chunkIds,
                                                    true))
                                    .toCompletableFuture()),
                    "DestroyChunks for pool " + poolId);
        } catch (RuntimeException e) {
            LOG.errorf("cannot send DestroyChunks for %s: %s", chunkIds, e.getMessage());
        }
    }

    // ---------------------------------------------------------------- import, export, destroy

    public synchronized PoolRecord exportPool(String name) {
        PoolRecord r = existing(name);
        requireImported(r, "export");
        if (r.saga != null) {
            throw ProblemException.conflict("pool '" + name + "' is busy: a grow is in progress");
        }
        LivePool pool = live.get(name);
        if (pool != null) {
            try {
                pool.export();
            } catch (IOException e) {
                throw ProblemException.conflict(
                        "pool '" + name + "' cannot be exported: " + e.getMessage());
            }
        }
        closeLive(name);
        r.state = State.EXPORTED;
        store.save(r);
        publish(new PoolExported(r.poolId, publisher.hostId(), r.name));
        return r;
    }

    /** What an import did: the pool, and the columns it rebuilt into leftover chunks. */
    public record Imported(Snapshot snapshot, List<Discovery.Rebuilt> rebuilt) {}

    /**
     * Imports a pool: from its record as before, or, when this host has no record of {@code name}
     * (a restore on a fresh host), from the labels of the attached chunks that no pool here owns
     * (only those filed under {@code poolId} at crypto-device-service, when given). Up to two
     * missing columns per vdev are rebuilt at once into the pool's leftover chunks.
     */
    public synchronized Imported importPool(String name, String poolId) {
        PoolRecord known = records.get(name);
        if (known != null) {
            if (poolId != null && !poolId.equals(known.poolId)) {
                throw ProblemException.conflict(
                        "pool '"
                                + name
                                + "' on this host is pool id "
                                + known.poolId
                                + ", not "
                                + poolId);
            }
            return new Imported(importPool(name), List.of());
        }
        if (!NAME.matcher(name).matches()) {
            throw ProblemException.badRequest(
                    "name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter"
                            + " or digit; was '"
                            + name
                            + "'");
        }
        if (poolId != null) {
            byId(poolId)
                    .ifPresent(
                            other -> {
                                throw ProblemException.conflict(
                                        "pool id "
                                                + poolId
                                                + " is pool '"
                                                + other.name
                                                + "' on this host");
                            });
        }
        Set<String> owned = new HashSet<>();
        records.values().forEach(r -> r.allChunks().forEach(c -> owned.add(c.chunkId())));
        List<ChunkCandidate> candidates =
                deviceService.attachedChunks().stream()
                        .filter(c -> !owned.contains(c.chunkId()))
                        .filter(c -> poolId == null || poolId.equals(c.poolId()))
                        .toList();
        Discovery found;
        try {
            found = driver.discover(name, candidates);
        } catch (UnsupportedOperationException e) {
            throw ProblemException.conflict(e.getMessage());
        } catch (IOException e) {
            throw new ProblemException(
                    503,
                    "Import failed",
                    "pool '" + name + "' cannot be assembled from its devices: " + e.getMessage());
        }
        LivePool pool = found.pool();
        Optional<PoolRecord> clash = byId(found.poolId());
        if (clash.isPresent()) {
            closeQuietly(pool);
            throw ProblemException.conflict(
                    "the chunks of pool '"
                            + name
                            + "' are pool id "
                            + found.poolId()
                            + ", which is pool '"
                            + clash.get().name
                            + "' on this host");
        }
        PoolRecord r = new PoolRecord();
        r.poolId = found.poolId();
        r.name = name;
        r.width = found.width();
        r.chunkSizeBytes = found.chunkSizeBytes();
        r.state = State.IMPORTED;
        r.createdAt = Instant.now();
        r.vdevs = refs(found.columns());
        records.put(name, r);
        store.save(r);
        Health before = pool.health();
        publishImported(r, pool);
        List<Discovery.Rebuilt> rebuilt = List.of();
        try {
            rebuilt = found.rebuild();
        } catch (IOException | RuntimeException e) {
            LOG.errorf(e, "pool %s: rebuilding its missing columns failed", name);
        }
        r.vdevs = refs(found.columns());
        store.save(r);
        serve(r, pool);
        Health after = pool.health();
        if (after != before) {
            publishQuietly(
                    new PoolHealthChanged(
                            r.poolId,
                            publisher.hostId(),
                            health(before),
                            health(after),
                            rebuilt.isEmpty() ? deviceSummary(pool) : rebuiltSummary(rebuilt)));
        }
        LOG.infof(
                "imported pool %s (%s) from its labels, %s, %d columns rebuilt",
                name, r.poolId, after, rebuilt.size());
        return new Imported(new Snapshot(r, pool), rebuilt);
    }

    private static List<List<ChunkRef>> refs(List<List<ChunkCandidate>> columns) {
        List<List<ChunkRef>> vdevs = new ArrayList<>();
        for (List<ChunkCandidate> vdev : columns) {
            List<ChunkRef> refs = new ArrayList<>();
            for (ChunkCandidate c : vdev) {
                refs.add(
                        c == null
                                ? new ChunkRef(null, null)
                                : new ChunkRef(c.chunkId(), c.deviceAddress()));
            }
            vdevs.add(refs);
        }
        return vdevs;
    }

    private static String rebuiltSummary(List<Discovery.Rebuilt> rebuilt) {
        List<String> parts = new ArrayList<>();
        for (Discovery.Rebuilt b : rebuilt) {
            parts.add(
                    "vdev "
                            + b.vdev()
                            + " column "
                            + b.column()
                            + " rebuilt into chunk "
                            + b.chunkId());
        }
        return String.join("; ", parts);
    }

    private static void closeQuietly(LivePool pool) {
        try {
            pool.close();
        } catch (IOException e) {
            LOG.errorf("closing a pool that was refused: %s", e.getMessage());
        }
    }

    public synchronized Snapshot importPool(String name) {
        PoolRecord r = existing(name);
        if (r.state == State.IMPORTED && live.containsKey(name)) {
            return new Snapshot(r, live.get(name)); // importing twice is a no-op
        }
        if (r.state == State.CREATING) {
            throw ProblemException.conflict("pool '" + name + "' is still being created");
        }
        LivePool pool;
        try {
            pool = open(r);
        } catch (IOException e) {
            throw new ProblemException(
                    503,
                    "Import failed",
                    "pool '" + name + "' cannot be assembled from its devices: " + e.getMessage());
        }
        r.state = State.IMPORTED;
        serve(r, pool);
        store.save(r);
        publishImported(r, pool);
        return new Snapshot(r, pool);
    }

    public synchronized void destroy(String name) {
        PoolRecord r = existing(name);
        if (r.saga != null) {
            throw ProblemException.conflict(
                    "pool '" + name + "' is busy: a " + r.saga.kind + " is in progress");
        }
        LivePool pool = live.get(name);
        if (pool != null) {
            try {
                pool.destroy();
            } catch (IOException e) {
                throw ProblemException.conflict(
                        "pool '" + name + "' cannot be destroyed: " + e.getMessage());
            }
        }
        closeLive(name);
        tombstones.add(r.poolId);
        store.addTombstone(r.poolId);
        records.remove(name);
        store.delete(r);
        List<String> chunkIds = r.allChunks().stream().map(ChunkRef::chunkId).toList();
        if (!chunkIds.isEmpty()) {
            destroyChunks(r.poolId, chunkIds, "destroy");
        }
        publish(new PoolDestroyed(r.poolId, publisher.hostId(), r.name));
    }

    // ---------------------------------------------------------------- freeze and thaw

    /** A freeze in force; {@code autoThaw} is null while the freeze still waits for writes. */
    private record Freeze(Instant at, long startNanos, ScheduledFuture<?> autoThaw) {}

    /** What a freeze answers: the moment and the chunks that now hold a consistent pool. */
    public record Frozen(PoolRecord record, Instant frozenAt) {}

    /**
     * Holds a pool's writes for a consistent copy of its chunk files: waits for the writes in
     * flight, commits and flushes every device, and holds new writes (reads go on) until {@link
     * #thaw} or, so that a crashed caller cannot freeze a pool forever, until {@code timeout} has
     * passed.
     */
    public Frozen freeze(String name, Duration timeout) {
        LivePool pool;
        PoolRecord r;
        Freeze pending = new Freeze(Instant.now(), System.nanoTime(), null);
        synchronized (this) {
            r = existing(name);
            requireImported(r, "freeze");
            pool = live.get(name);
            if (pool == null) {
                throw ProblemException.conflict(
                        "pool '" + name + "' is waiting for its devices and cannot be frozen");
            }
            if (frozen.containsKey(name)) {
                throw ProblemException.conflict("pool '" + name + "' is frozen already");
            }
            if (scrubbing.contains(name)) {
                throw ProblemException.conflict(
                        "pool '" + name + "' is being scrubbed; a scrub repairs chunks in place");
            }
            frozen.put(name, pending);
        }
        try {
            pool.freeze(); // outside the lock: writes in flight may take a while to finish
        } catch (UnsupportedOperationException e) {
            endPending(name, pending);
            throw ProblemException.conflict(
                    "the " + driver.name() + " driver cannot freeze pool '" + name + "'");
        } catch (IllegalStateException e) {
            endPending(name, pending);
            throw ProblemException.conflict("pool '" + name + "' is frozen already");
        } catch (IOException e) {
            endPending(name, pending);
            throw new ProblemException(
                    500,
                    "Freeze failed",
                    "pool '" + name + "' could not commit before freezing: " + e.getMessage());
        }
        synchronized (this) {
            if (frozen.get(name) != pending || live.get(name) != pool) {
                pool.thaw();
                throw ProblemException.conflict(
                        "pool '" + name + "' was exported or destroyed while freezing");
            }
            Instant at = Instant.now();
            Freeze[] self = new Freeze[1];
            ScheduledFuture<?> autoThaw =
                    ticker.schedule(
                            () -> autoThaw(name, self[0]),
                            timeout.toMillis(),
                            TimeUnit.MILLISECONDS);
            self[0] = new Freeze(at, System.nanoTime(), autoThaw);
            frozen.put(name, self[0]);
            LOG.infof("pool %s frozen for at most %d ms", name, timeout.toMillis());
            return new Frozen(r, at);
        }
    }

    /** Lets a frozen pool's held writes go on; answers how long it was frozen. */
    public synchronized long thaw(String name) {
        existing(name);
        Freeze f = frozen.get(name);
        if (f == null || f.autoThaw() == null) {
            throw ProblemException.conflict("pool '" + name + "' is not frozen");
        }
        endFreeze(name);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - f.startNanos());
        LOG.infof("pool %s thawed after %d ms", name, millis);
        return millis;
    }

    private synchronized void autoThaw(String name, Freeze f) {
        if (f != null && frozen.get(name) == f) {
            endFreeze(name);
            LOG.warnf("pool %s thawed by its freeze timeout: nobody thawed it", name);
        }
    }

    private synchronized void endPending(String name, Freeze pending) {
        frozen.remove(name, pending);
    }

    /** Ends a freeze, if any: cancels its timer and lets the held writes go. */
    private void endFreeze(String name) {
        Freeze f = frozen.remove(name);
        if (f == null) {
            return;
        }
        if (f.autoThaw() != null) {
            f.autoThaw().cancel(false);
        }
        LivePool pool = live.get(name);
        if (pool != null) {
            pool.thaw();
        }
    }

    /** Scrubs a pool outside the lock: reads keep being served while it runs. */
    public PoolScrubbed scrub(String name) {
        LivePool pool;
        PoolRecord r;
        synchronized (this) {
            r = existing(name);
            requireImported(r, "scrub");
            pool = live.get(name);
            if (pool == null) {
                throw ProblemException.conflict(
                        "pool '" + name + "' is waiting for its devices and cannot be scrubbed");
            }
            if (frozen.containsKey(name)) {
                throw ProblemException.conflict(
                        "pool '" + name + "' is frozen; a scrub would repair chunks in place");
            }
            if (!scrubbing.add(name)) {
                throw ProblemException.conflict("pool '" + name + "' is being scrubbed already");
            }
        }
        long start = System.nanoTime();
        ScrubResult result;
        try {
            result = pool.scrub();
        } catch (IOException e) {
            throw new ProblemException(
                    500, "Scrub failed", "scrub of pool '" + name + "' failed: " + e.getMessage());
        } finally {
            synchronized (this) {
                scrubbing.remove(name);
            }
        }
        PoolScrubbed event =
                new PoolScrubbed(
                        r.poolId,
                        publisher.hostId(),
                        result.bytesScanned(),
                        result.bytesRepaired(),
                        result.bytesUnrecoverable(),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        publish(event);
        return event;
    }

    /** Sets a pool's auto-grow policy; null values fall back to the service defaults. */
    public synchronized PoolRecord setPolicy(
            String name, Boolean autoGrow, Integer thresholdPercent, Long maxSizeBytes) {
        PoolRecord r = existing(name);
        if (thresholdPercent != null && (thresholdPercent < 1 || thresholdPercent > 100)) {
            throw ProblemException.badRequest(
                    "thresholdPercent must be 1 to 100, was " + thresholdPercent);
        }
        if (maxSizeBytes != null && maxSizeBytes < 0) {
            throw ProblemException.badRequest("maxSizeBytes must not be negative");
        }
        if (autoGrow != null) {
            r.autoGrow = autoGrow;
        }
        if (thresholdPercent != null) {
            r.thresholdPercent = thresholdPercent;
        }
        if (maxSizeBytes != null) {
            r.maxSizeBytes = maxSizeBytes;
        }
        store.save(r);
        return r;
    }

    private void serve(PoolRecord r, LivePool pool) {
        live.put(r.name, pool);
        Health now = pool.health();
        // The health last announced outlives an export or a restart: a pool that comes back with a
        // device missing (or back again) has changed health like one that loses it while served.
        if (r.health != null && health(r.health) != health(now)) {
            publishQuietly(
                    new PoolHealthChanged(
                            r.poolId,
                            publisher.hostId(),
                            health(r.health),
                            health(now),
                            deviceSummary(pool)));
        }
        if (r.health != now) {
            r.health = now;
            store.save(r);
        }
        pool.volume().ifPresent(volume -> nbd.addExport(r.name, volume));
    }

    private void closeLive(String name) {
        LivePool pool = live.remove(name);
        endFreeze(name);
        if (pool == null) {
            return;
        }
        nbd.removeExport(name);
        try {
            pool.close();
        } catch (IOException e) {
            LOG.errorf("closing pool %s: %s", name, e.getMessage());
        }
    }

    /** Imports a pool marked imported; on failure it stays waiting and the ticker tries again. */
    private void tryOpen(PoolRecord r) {
        if (live.containsKey(r.name)) {
            return;
        }
        try {
            LivePool pool = open(r);
            serve(r, pool);
            publishImported(r, pool);
            LOG.infof("imported pool %s (%s)", r.name, pool.health());
        } catch (IOException | RuntimeException e) {
            LOG.warnf("pool %s waits for its devices: %s", r.name, e.getMessage());
        }
    }

    /**
     * Assembles a pool from every device it knows, in any order; devices that do not answer are
     * left out (up to two per vdev). A grow in flight contributes its chunks: the engine may have
     * added the vdev before a crash.
     */
    private LivePool open(PoolRecord r) throws IOException {
        return driver.assemble(
                r.name, r.allChunks().stream().map(ChunkRef::deviceAddress).toList());
    }

    private static List<List<String>> addresses(List<List<ChunkRef>> groups) {
        return groups.stream().map(g -> g.stream().map(ChunkRef::deviceAddress).toList()).toList();
    }

    private void publishImported(PoolRecord r, LivePool pool) {
        publishQuietly(
                new PoolImported(
                        r.poolId,
                        publisher.hostId(),
                        r.name,
                        health(pool.health()),
                        r.allChunks().stream().map(ChunkRef::chunkId).toList()));
    }

    // ---------------------------------------------------------------- the ticker

    /** Every second: saga timeouts, waiting imports, health changes; capacity at its interval. */
    private synchronized void tick() {
        try {
            for (PoolRecord r : List.copyOf(records.values())) {
                if (r.saga != null) {
                    advance(r);
                }
                if (r.state == State.IMPORTED && !live.containsKey(r.name)) {
                    tryOpen(r);
                }
                LivePool pool = live.get(r.name);
                if (pool != null) {
                    try {
                        pool.refresh();
                    } catch (IOException e) {
                        LOG.warnf("pool %s: cannot read its state: %s", r.name, e.getMessage());
                        continue;
                    }
                    Health now = pool.health();
                    Health before = r.health;
                    if (before != now) {
                        r.health = now;
                        store.save(r);
                        if (before != null) {
                            publishQuietly(
                                    new PoolHealthChanged(
                                            r.poolId,
                                            publisher.hostId(),
                                            health(before),
                                            health(now),
                                            deviceSummary(pool)));
                        }
                    }
                }
            }
            if (Instant.now().isAfter(nextCapacityCheck)) {
                nextCapacityCheck = Instant.now().plus(config.capacity().checkInterval());
                checkCapacity();
            }
        } catch (RuntimeException e) {
            LOG.errorf(e, "pool ticker");
        }
    }

    /**
     * Alerts once when a pool's allocated share reaches its threshold, again only after it fell
     * {@code hysteresis} points below; with auto-grow on, asks itself for one more vdev by a
     * GrowPool command whose id names the pool's vdev count (a repeated alert asks the same).
     */
    private void checkCapacity() {
        for (PoolRecord r : records.values()) {
            LivePool pool = live.get(r.name);
            if (pool == null || pool.size() == 0) {
                continue;
            }
            long size = pool.size();
            long allocated = pool.allocatedBytes();
            double percent = 100.0 * allocated / size;
            int threshold = effectiveThreshold(r);
            if (!r.alerted && percent >= threshold) {
                r.alerted = true;
                store.save(r);
                publishQuietly(
                        new PoolCapacityAlert(
                                r.poolId, publisher.hostId(), size, allocated, threshold));
                LOG.infof(
                        "pool %s is %.1f%% allocated (threshold %d%%)", r.name, percent, threshold);
                if (effectiveAutoGrow(r) && r.saga == null) {
                    long vdevSize = size / r.vdevs.size();
                    if (size + vdevSize <= effectiveMaxSize(r)) {
                        sendGrowCommand(r);
                    } else {
                        LOG.warnf(
                                "pool %s stays at %d bytes: one more vdev would pass its maximum"
                                        + " %d",
                                r.name, size, effectiveMaxSize(r));
                    }
                }
            } else if (r.alerted && percent < threshold - config.capacity().hysteresisPercent()) {
                r.alerted = false;
                store.save(r);
            }
        }
    }

    private void sendGrowCommand(PoolRecord r) {
        GrowPool command =
                new GrowPool(
                        r.poolId + "/auto-grow-" + r.vdevs.size(),
                        publisher.hostId(),
                        r.poolId,
                        1,
                        GrowthTrigger.CAPACITY_ALERT);
        publisher
                .publish(commands, command)
                .whenComplete(
                        (ok, e) -> {
                            if (e != null) {
                                LOG.errorf("cannot send GrowPool: %s", e.getMessage());
                            }
                        });
    }

    // ---------------------------------------------------------------- helpers

    private Optional<PoolRecord> byId(String poolId) {
        return records.values().stream().filter(r -> r.poolId.equals(poolId)).findFirst();
    }

    private PoolRecord existing(String name) {
        PoolRecord r = records.get(name);
        if (r == null) {
            throw ProblemException.notFound("no pool '" + name + "' on this host");
        }
        return r;
    }

    private static void requireImported(PoolRecord r, String action) {
        if (r.state != State.IMPORTED) {
            throw ProblemException.conflict(
                    "cannot "
                            + action
                            + " pool '"
                            + r.name
                            + "': it is "
                            + r.state.name().toLowerCase()
                            + (r.state == State.EXPORTED ? "; import it first" : ""));
        }
    }

    private static void checkChunkSize(long bytes) {
        if (bytes % MIB != 0 || bytes < MIN_CHUNK || bytes > MAX_CHUNK) {
            throw ProblemException.badRequest(
                    "chunkSizeBytes must be a multiple of 1 MiB from 64 MiB to 1 TiB, was "
                            + bytes);
        }
    }

    private static List<List<String>> ids(List<List<ChunkRef>> vdevs) {
        return vdevs.stream().map(v -> v.stream().map(ChunkRef::chunkId).toList()).toList();
    }

    static Vocabulary.Health health(Health h) {
        return switch (h) {
            case ONLINE -> Vocabulary.Health.ONLINE;
            case DEGRADED, RESILVERING -> Vocabulary.Health.DEGRADED;
            case FAULTED -> Vocabulary.Health.FAULTED;
            case UNAVAIL -> Vocabulary.Health.UNAVAIL;
        };
    }

    private static String deviceSummary(LivePool pool) {
        StringBuilder s = new StringBuilder();
        pool.status().stream()
                .filter(d -> d.state() != Health.ONLINE)
                .forEach(
                        d ->
                                s.append(s.length() == 0 ? "" : "; ")
                                        .append("vdev ")
                                        .append(d.vdev())
                                        .append(" column ")
                                        .append(d.column())
                                        .append(" ")
                                        .append(d.state()));
        return s.length() == 0 ? "all devices online" : s.toString();
    }

    private void publish(Event event) {
        awaitAll(
                List.of(publisher.publish(poolEvents, event).toCompletableFuture()),
                event.getClass().getSimpleName());
    }

    private void publishQuietly(Event event) {
        try {
            publish(event);
        } catch (RuntimeException e) {
            LOG.errorf("cannot publish %s: %s", event, e.getMessage());
        }
    }

    private static void awaitAll(List<CompletableFuture<?>> sent, String what) {
        try {
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
                    .get(SEND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending " + what, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new ProblemException(
                    503, "Broker unavailable", "the broker did not take " + what);
        }
    }

    /** Waits for a saga started by a REST call; the caller gets the rollback's problem. */
    public PoolRecord await(CompletableFuture<PoolRecord> saga) {
        try {
            return saga.get(config.sagaTimeout().toSeconds() + 60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ProblemException p) {
                throw p;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new ProblemException(
                    504, "Saga still running", "the pool operation goes on in the background");
        }
    }
}
