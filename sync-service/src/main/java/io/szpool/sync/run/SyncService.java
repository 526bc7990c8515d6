package io.szpool.sync.run;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.events.Event;
import io.szpool.events.SyncEvent.ChunkRestored;
import io.szpool.events.SyncEvent.ChunkSynced;
import io.szpool.events.SyncEvent.RestoreCompleted;
import io.szpool.events.SyncEvent.RestoreFailed;
import io.szpool.events.SyncEvent.RestoreStarted;
import io.szpool.events.SyncEvent.SyncCompleted;
import io.szpool.events.SyncEvent.SyncFailed;
import io.szpool.events.SyncEvent.SyncStarted;
import io.szpool.service.EventPublisher;
import io.szpool.service.ProblemException;
import io.szpool.sync.config.SyncConfig;
import io.szpool.sync.generation.GenerationStore;
import io.szpool.sync.generation.GenerationStore.Catalog;
import io.szpool.sync.generation.GenerationStore.CheckReport;
import io.szpool.sync.generation.GenerationStore.ChunkCheck;
import io.szpool.sync.generation.GenerationStore.Generation;
import io.szpool.sync.generation.GenerationStore.SyncResult;
import io.szpool.sync.generation.Rebuildable;
import io.szpool.sync.generation.TargetKeys;
import io.szpool.sync.messaging.SyncChannels;
import io.szpool.sync.remote.Rsync;
import io.szpool.sync.remote.RsyncOptions;
import io.szpool.sync.remote.Target;
import io.szpool.sync.source.AtRestChunkSource;
import io.szpool.sync.source.ChunkSource;
import io.szpool.sync.source.ChunkSource.SourceChunk;
import io.szpool.sync.source.DeviceServiceClient;
import io.szpool.sync.source.LiveChunkSource;
import io.szpool.sync.source.PoolServiceClient;
import io.szpool.sync.source.PoolServiceClient.PoolInfo;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

/**
 * Sync runs, verifies and restores of this host, one at a time per pool, each announced on {@code
 * szpool.sync-events}. Targets appear in events and logs by address only; credentials stay in the
 * files the configuration names.
 */
@ApplicationScoped
public class SyncService {
    private static final Logger LOG = Logger.getLogger(SyncService.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SyncConfig config;
    private final SlotKeys slotKeys;
    private final EventPublisher publisher;
    private final Emitter<String> syncEvents;
    private final Map<String, String> running = new ConcurrentHashMap<>();
    private final Map<String, Rsync> runningRsync = new ConcurrentHashMap<>();
    private final Map<String, LastRun> lastRuns = new ConcurrentHashMap<>();
    private final PoolServiceClient pools;
    private final DeviceServiceClient devices;

    public SyncService(
            SyncConfig config,
            SlotKeys slotKeys,
            EventPublisher publisher,
            @Channel(SyncChannels.SYNC_EVENTS) Emitter<String> syncEvents) {
        this.config = config;
        this.slotKeys = slotKeys;
        this.publisher = publisher;
        this.syncEvents = syncEvents;
        this.pools =
                "none".equals(config.poolServiceUrl())
                        ? null
                        : new PoolServiceClient(
                                URI.create(config.poolServiceUrl()), config.serviceTimeout());
        this.devices =
                new DeviceServiceClient(
                        URI.create(config.deviceServiceUrl()), config.serviceTimeout());
    }

    /** How the last run of a pool ended, for status. */
    public record LastRun(
            String kind,
            String target,
            long generation,
            boolean succeeded,
            String detail,
            Instant finishedAt) {}

    /** One sync request: where from, where to, how fast. */
    public record SyncOrder(
            Optional<String> target, Optional<Path> source, Optional<Integer> bwlimitKib) {}

    /**
     * Writes a new generation of {@code pool} (its id, or its name at pool-service); throws 409
     * while the pool has a run going. A pool that pool-service has imported is captured live
     * (freeze, snapshot, thaw); any other from its chunk files at rest.
     */
    public SyncResult sync(String pool, SyncOrder order) {
        Target target = target(order.target());
        String poolId = pool;
        Optional<PoolInfo> known = Optional.empty();
        if (order.source().isEmpty()) {
            known = poolService(pool);
            if (known.isPresent()) {
                poolId = known.get().poolId();
                if (known.get().imported()) {
                    LiveChunkSource live =
                            new LiveChunkSource(
                                    pools,
                                    devices,
                                    known.get().name(),
                                    poolId,
                                    workDir().resolve("capture-" + UUID.randomUUID()),
                                    config.freezeTimeout());
                    return sync(poolId, target, live, order.bwlimitKib());
                }
            }
        }
        Path dataDir =
                order.source()
                        .or(config::chunkDataDir)
                        .orElseThrow(
                                () ->
                                        ProblemException.badRequest(
                                                "no chunk source: name one, or set"
                                                        + " szpool.sync.chunk-data-dir"));
        ChunkSource source;
        try {
            AtRestChunkSource atRest =
                    AtRestChunkSource.open(
                            dataDir, poolId, workDir().resolve("capture-" + UUID.randomUUID()));
            if (known.isPresent()) {
                vdevsAtPoolService(known.get().name()).ifPresent(v -> withVdevs(atRest, v));
            }
            source = atRest;
        } catch (IllegalArgumentException e) {
            throw ProblemException.notFound(e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the chunks of pool " + poolId, e);
        }
        return sync(poolId, target, source, order.bwlimitKib());
    }

    /**
     * The pool as this host's pool-service knows it; empty when it has none of that name or id, is
     * not configured ({@code none}) or does not answer: then the at-rest source is the only way,
     * and it refuses a capture that changed under it.
     */
    private Optional<PoolInfo> poolService(String pool) {
        if (pools == null) {
            return Optional.empty();
        }
        try {
            return pools.find(pool);
        } catch (IOException e) {
            LOG.debugf("pool-service at %s: %s", config.poolServiceUrl(), e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProblemException(503, "Service Unavailable", "interrupted");
        }
    }

    /**
     * The vdevs of an exported pool as pool-service records them, for the manifest's layout; empty
     * when pool-service does not know the pool or does not answer.
     */
    private Optional<List<List<String>>> vdevsAtPoolService(String pool) {
        if (pools == null) {
            return Optional.empty();
        }
        try {
            List<List<String>> vdevs = pools.show(pool).chunkIds();
            return vdevs.isEmpty() ? Optional.empty() : Optional.of(vdevs);
        } catch (IOException e) {
            LOG.debugf("pool-service has no layout of pool %s: %s", pool, e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static void withVdevs(AtRestChunkSource source, List<List<String>> vdevs) {
        try {
            source.withVdevs(vdevs);
        } catch (IOException e) {
            // The generation is still whole without its layout; only a restore's early check of
            // what RAID-Z2 can rebuild is lost (pool-service's import still refuses then).
            LOG.warnf(
                    "pool %s: no vdev layout in the manifest: %s", source.poolId(), e.getMessage());
        }
    }

    /** Writes a new generation from any capture source; the source is closed when done. */
    public SyncResult sync(
            String poolId, Target target, ChunkSource source, Optional<Integer> bwlimitKib) {
        acquire(poolId, "sync");
        long[] generation = {0};
        String host = publisher.hostId();
        try (source) {
            TargetKeys keys =
                    slotKeys.keysFor(source.keySlot())
                            .orElseThrow(
                                    () ->
                                            new ProblemException(
                                                    403,
                                                    "Forbidden",
                                                    "the passphrase does not open the key slot of pool "
                                                            + poolId));
            Rsync rsync = rsync(target, bwlimitKib);
            runningRsync.put(poolId, rsync);
            GenerationStore store = new GenerationStore(rsync, workDir());
            List<Event> chunkEvents = new ArrayList<>();
            SyncResult result =
                    store.sync(
                            source,
                            keys,
                            host,
                            config.keep(),
                            pins(poolId, target),
                            suspects(poolId, target),
                            new GenerationStore.Listener() {
                                @Override
                                public void started(long n) {
                                    generation[0] = n;
                                    publish(new SyncStarted(poolId, host, n, target.address()));
                                }

                                @Override
                                public void chunkSent(
                                        SourceChunk chunk,
                                        long n,
                                        long bytesSent,
                                        String sha256,
                                        long ms) {
                                    chunkEvents.add(
                                            new ChunkSynced(
                                                    chunk.chunkId(),
                                                    poolId,
                                                    host,
                                                    n,
                                                    target.address(),
                                                    bytesSent,
                                                    "sha256:" + sha256,
                                                    ms));
                                }
                            });
            // ChunkSynced only once the manifest makes the generation real.
            chunkEvents.forEach(this::publish);
            publish(
                    new SyncCompleted(
                            poolId,
                            host,
                            result.generation(),
                            target.address(),
                            result.chunks(),
                            result.bytesSent(),
                            result.durationMs(),
                            result.bytesReferenced(),
                            result.barrierMillis()));
            // What a verify found damaged went again in this generation.
            saveSuspects(poolId, target, Set.of());
            LOG.infof(
                    "pool %s: generation %d on %s, %d of %d chunks sent, %d bytes sent, %d bytes"
                            + " referenced, writes held %s, pruned %s",
                    poolId,
                    result.generation(),
                    target.address(),
                    result.chunksSent(),
                    result.chunks(),
                    result.bytesSent(),
                    result.bytesReferenced(),
                    result.barrierMillis() == null ? "never" : result.barrierMillis() + " ms",
                    result.pruned());
            lastRuns.put(
                    poolId,
                    new LastRun(
                            "sync",
                            target.address(),
                            result.generation(),
                            true,
                            result.bytesSent() + " bytes sent",
                            Instant.now()));
            return result;
        } catch (ProblemException e) {
            failed(poolId, host, generation[0], target, e.getMessage());
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed(poolId, host, generation[0], target, "interrupted");
            throw new ProblemException(503, "Service Unavailable", "the sync was interrupted");
        } catch (IOException | RuntimeException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            failed(poolId, host, generation[0], target, reason);
            throw new ProblemException(
                    502,
                    "Bad Gateway",
                    "sync of pool " + poolId + " to " + target.address() + " failed: " + reason);
        } finally {
            runningRsync.remove(poolId);
            running.remove(poolId);
        }
    }

    /** Whether the pool has a sync, verify or restore going. */
    public boolean running(String poolId) {
        return running.containsKey(poolId);
    }

    /**
     * The pools this host could sync: those pool-service has (live or exported), else those whose
     * key slot is in the chunk data folder (pool-service not configured or not answering).
     */
    public Set<String> knownPools() {
        Set<String> out = new TreeSet<>();
        if (pools != null) {
            try {
                pools.list().forEach(p -> out.add(p.poolId()));
                return out;
            } catch (IOException e) {
                LOG.debugf("pool-service at %s: %s", config.poolServiceUrl(), e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return out;
            }
        }
        Path keys = config.chunkDataDir().map(d -> d.resolve("keys")).orElse(null);
        if (keys != null && Files.isDirectory(keys)) {
            try (java.util.stream.Stream<Path> slots = Files.list(keys)) {
                slots.map(f -> f.getFileName().toString())
                        .filter(n -> n.endsWith(".slot"))
                        .forEach(n -> out.add(n.substring(0, n.length() - ".slot".length())));
            } catch (IOException e) {
                LOG.warnf("cannot list %s: %s", keys, e.getMessage());
            }
        }
        return out;
    }

    /** Stops the pool's running sync, if any (its rsync is killed; the run reports SyncFailed). */
    public boolean cancel(String poolId) {
        Rsync rsync = runningRsync.get(poolId);
        if (rsync == null) {
            return false;
        }
        rsync.cancel();
        return true;
    }

    /** A pool's generations on a target, and whether a run is going. */
    public record Status(
            String poolId,
            String target,
            String running,
            LastRun lastRun,
            List<GenerationInfo> generations) {}

    public record GenerationInfo(
            long generation,
            Instant createdAt,
            int chunks,
            long sizeBytes,
            int chunksSent,
            boolean pinned) {}

    public Status status(String poolId, Optional<String> targetAddress) {
        Target target = target(targetAddress);
        Catalog catalog = catalog(target, Optional.of(poolId));
        Set<Long> pins = pins(poolId, target);
        List<GenerationInfo> generations =
                catalog.generations().stream()
                        .map(
                                g ->
                                        new GenerationInfo(
                                                g.number(),
                                                g.manifest().createdAt(),
                                                g.manifest().chunks().size(),
                                                g.manifest().totalBytes(),
                                                (int)
                                                        g.manifest().chunks().stream()
                                                                .filter(
                                                                        c ->
                                                                                c.sentIn()
                                                                                        == g
                                                                                                .number())
                                                                .count(),
                                                pins.contains(g.number())))
                        .toList();
        return new Status(
                poolId, target.address(), running.get(poolId), lastRuns.get(poolId), generations);
    }

    /** Checks a generation (default: the latest) of a pool on a target against its manifest. */
    public CheckReport verify(
            String poolId, Optional<String> targetAddress, Optional<Long> number) {
        Target target = target(targetAddress);
        acquire(poolId, "verify");
        try {
            Catalog catalog = catalog(target, Optional.of(poolId));
            Generation g = pick(catalog, poolId, target, number);
            CheckReport report =
                    new GenerationStore(rsync(target, Optional.empty()), workDir())
                            .verify(g, catalog.listing());
            if (g.number() == catalog.latest().map(Generation::number).orElse(-1L)) {
                // The next run links unchanged chunks from the latest generation: it must send
                // these again instead of carrying the damage forward.
                Set<String> bad = new TreeSet<>();
                report.with(ChunkCheck.MISSING).forEach(c -> bad.add(c.chunkId()));
                report.with(ChunkCheck.DAMAGED).forEach(c -> bad.add(c.chunkId()));
                saveSuspects(poolId, target, bad);
            }
            lastRuns.put(
                    poolId,
                    new LastRun(
                            "verify",
                            target.address(),
                            g.number(),
                            report.intact(),
                            report.with(ChunkCheck.MISSING).size()
                                    + " missing, "
                                    + report.with(ChunkCheck.DAMAGED).size()
                                    + " damaged",
                            Instant.now()));
            return report;
        } catch (IOException e) {
            throw new ProblemException(502, "Bad Gateway", "verify failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProblemException(503, "Service Unavailable", "the verify was interrupted");
        } finally {
            running.remove(poolId);
        }
    }

    /**
     * A restore request.
     *
     * @param poolId which pool, when the target holds several the passphrase opens
     * @param into the fresh folder to fetch into; default a new folder under the data dir
     * @param importAs import the pool under this name at this host's pool-service after the fetch
     *     (adopt, import, scrub); empty = fetch and check the files only
     */
    public record RestoreOrder(
            Optional<String> poolId,
            String target,
            Optional<Long> generation,
            Optional<Path> into,
            Optional<String> importAs) {}

    /**
     * What a restore did.
     *
     * @param into the folder the generation was fetched into (crypto-device-service moved it into
     *     its data folder when the pool was imported)
     * @param imported what the import did; null for a files-only restore
     */
    public record RestoreOutcome(CheckReport report, Path into, PoolImport.Outcome imported) {}

    /**
     * Fetches a generation into a fresh folder with only the target and the passphrase, and, when
     * asked, has this host's services take the pool over: crypto-device-service adopts the chunks,
     * pool-service imports the pool (rebuilding up to two bad chunks per vdev) and scrubs it.
     * {@code RestoreCompleted} comes last, once the pool serves.
     */
    public RestoreOutcome restore(RestoreOrder order) {
        Target target = target(Optional.of(order.target()));
        order.importAs().ifPresent(this::checkImportable);
        Catalog catalog = catalog(target, order.poolId());
        Set<String> pools = new TreeSet<>();
        catalog.generations().forEach(g -> pools.add(g.manifest().poolId()));
        if (pools.isEmpty()) {
            throw ProblemException.notFound(
                    "no generation on "
                            + target.address()
                            + order.poolId().map(p -> " of pool " + p).orElse("")
                            + " opens with this passphrase");
        }
        if (pools.size() > 1) {
            throw ProblemException.badRequest(
                    target.address() + " holds several pools; name one of " + pools);
        }
        String pool = pools.iterator().next();
        Generation g = pick(catalog, pool, target, order.generation());
        Path into =
                order.into()
                        .orElseGet(
                                () ->
                                        config.dataDir()
                                                .toAbsolutePath()
                                                .resolve("restores")
                                                .resolve(
                                                        pool
                                                                + "-generation-"
                                                                + g.number()
                                                                + "-"
                                                                + UUID.randomUUID()
                                                                        .toString()
                                                                        .substring(0, 8)));
        acquire(pool, "restore");
        String host = publisher.hostId();
        long start = System.nanoTime();
        String step = "fetch";
        try {
            publish(new RestoreStarted(pool, host, g.number(), target.address()));
            boolean existed = Files.isDirectory(into);
            GenerationStore store = new GenerationStore(rsync(target, Optional.empty()), workDir());
            CheckReport report = store.restore(g, into, new GenerationStore.Listener() {});
            PoolImport.Outcome imported = null;
            if (order.importAs().isPresent()) {
                step = "check";
                refuseBeyondRepair(store, catalog, g, report, into, existed);
                try {
                    imported =
                            new PoolImport(
                                            new DeviceServiceClient(
                                                    URI.create(config.deviceServiceUrl()),
                                                    config.importTimeout()),
                                            new PoolServiceClient(
                                                    URI.create(config.poolServiceUrl()),
                                                    config.importTimeout()),
                                            config.deviceServiceUrl(),
                                            config.poolServiceUrl())
                                    .run(into, order.importAs().get(), pool);
                } catch (PoolImport.StepFailed e) {
                    step = e.step;
                    throw new ProblemException(
                            e.status,
                            e.status == 409 ? "Conflict" : "Bad Gateway",
                            "restore of pool "
                                    + pool
                                    + " generation "
                                    + g.number()
                                    + " stopped: "
                                    + e.getMessage()
                                    + "; the restored chunks are kept in "
                                    + (e.step.equals("adopt")
                                            ? into.toString()
                                            : "crypto-device-service's data folder"));
                }
            }
            List<ChunkCheck> ok = report.with(ChunkCheck.OK);
            int restored;
            int repaired;
            if (imported == null) {
                for (ChunkCheck c : ok) {
                    publish(new ChunkRestored(c.chunkId(), pool, host, g.number(), false));
                }
                restored = ok.size();
                repaired = 0;
            } else {
                // Every chunk is back on this host now: intact, rebuilt, or repaired by the scrub.
                for (ChunkCheck c : report.chunks()) {
                    publish(
                            new ChunkRestored(
                                    c.chunkId(),
                                    pool,
                                    host,
                                    g.number(),
                                    imported.repaired().contains(c.chunkId())));
                }
                restored = report.chunks().size();
                repaired = imported.repaired().size();
            }
            publish(
                    new RestoreCompleted(
                            pool,
                            host,
                            g.number(),
                            restored,
                            repaired,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)));
            lastRuns.put(
                    pool,
                    new LastRun(
                            "restore",
                            target.address(),
                            g.number(),
                            imported != null || report.intact(),
                            imported == null
                                    ? ok.size() + " of " + report.chunks().size() + " chunks intact"
                                    : "imported as "
                                            + imported.pool()
                                            + " ("
                                            + imported.health()
                                            + "), "
                                            + repaired
                                            + " chunks repaired",
                            Instant.now()));
            return new RestoreOutcome(report, into, imported);
        } catch (ProblemException e) {
            restoreFailed(pool, host, g.number(), target, step, e.getMessage());
            throw e;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            restoreFailed(pool, host, g.number(), target, step, e.getMessage());
            throw ProblemException.conflict(e.getMessage());
        } catch (IOException | RuntimeException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            restoreFailed(pool, host, g.number(), target, step, reason);
            throw new ProblemException(502, "Bad Gateway", "restore failed: " + reason);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            restoreFailed(pool, host, g.number(), target, step, "interrupted");
            throw new ProblemException(503, "Service Unavailable", "the restore was interrupted");
        } finally {
            running.remove(pool);
        }
    }

    /**
     * Files-only restore, as before imports existed: fetch and check into {@code into}. {@code
     * poolId} may be absent when the target holds one pool the passphrase opens.
     */
    public CheckReport restore(
            Optional<String> poolId, String targetAddress, Optional<Long> number, Path into) {
        return restore(
                        new RestoreOrder(
                                poolId, targetAddress, number, Optional.of(into), Optional.empty()))
                .report();
    }

    /**
     * An import needs this host's pool-service, and a name it does not use yet: checked before
     * anything is fetched.
     */
    private void checkImportable(String name) {
        if (pools == null) {
            throw ProblemException.badRequest(
                    "an import needs this host's pool-service; szpool.sync.pool-service-url is"
                            + " none (restore the files only, without import)");
        }
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
            throw ProblemException.badRequest(
                    "'pool' must be a pool name (letters, digits, '.', '_', '-'), was '"
                            + name
                            + "'");
        }
        Optional<PoolInfo> existing;
        try {
            existing = pools.find(name);
        } catch (IOException e) {
            throw new ProblemException(
                    502,
                    "Bad Gateway",
                    "pool-service at "
                            + config.poolServiceUrl()
                            + " did not answer: "
                            + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProblemException(503, "Service Unavailable", "interrupted");
        }
        if (existing.isPresent()) {
            throw ProblemException.conflict(
                    "pool-service has a pool named "
                            + name
                            + " already ("
                            + existing.get().state()
                            + ", id "
                            + existing.get().poolId()
                            + "); restore under another name");
        }
    }

    /**
     * More than two bad chunks in a vdev: RAID-Z2 cannot rebuild them. Refused before anything at
     * crypto-device-service or pool-service changes, naming the chunks and where an earlier
     * generation still has them; what this restore fetched is removed again.
     */
    private void refuseBeyondRepair(
            GenerationStore store,
            Catalog catalog,
            Generation g,
            CheckReport report,
            Path into,
            boolean existed)
            throws IOException {
        List<Rebuildable.LostVdev> lost = Rebuildable.lost(g.manifest().layout(), report);
        if (lost.isEmpty()) {
            return;
        }
        Set<String> bad = new TreeSet<>();
        lost.forEach(v -> bad.addAll(v.bad()));
        Map<String, GenerationStore.IntactCopy> earlier =
                store.intactEarlier(catalog, g, report, bad);
        StringBuilder why = new StringBuilder();
        why.append("generation ").append(g.number()).append(" of pool ").append(report.poolId());
        why.append(" cannot be rebuilt: RAID-Z2 rebuilds at most two chunks per vdev;");
        for (Rebuildable.LostVdev v : lost) {
            why.append(" vdev ")
                    .append(v.vdev())
                    .append(" lost ")
                    .append(v.bad().size())
                    .append(":");
            for (String id : v.bad()) {
                String state =
                        report.with(ChunkCheck.MISSING).stream()
                                        .anyMatch(c -> c.chunkId().equals(id))
                                ? "missing"
                                : "damaged";
                GenerationStore.IntactCopy copy = earlier.get(id);
                why.append(' ').append(id).append(" (").append(state).append(", ");
                why.append(
                        copy == null
                                ? "in no earlier generation"
                                : (copy.verified() ? "intact in" : "might be intact in")
                                        + " generation "
                                        + copy.generation());
                why.append(')');
            }
            why.append(';');
        }
        why.append(" nothing was changed");
        GenerationStore.deleteTree(into);
        if (existed) {
            Files.createDirectories(into);
        }
        throw ProblemException.conflict(why.toString());
    }

    /** Pins or unpins a generation: pinned generations survive retention. */
    public synchronized Set<Long> pin(
            String poolId, Optional<String> targetAddress, long generation, boolean pinned) {
        Target target = target(targetAddress);
        Map<String, TreeSet<Long>> all = readPins(poolId);
        TreeSet<Long> set = all.computeIfAbsent(target.address(), t -> new TreeSet<>());
        if (pinned) {
            set.add(generation);
        } else {
            set.remove(generation);
        }
        writeState(pinFile(poolId), all);
        return Set.copyOf(set);
    }

    private synchronized Set<Long> pins(String poolId, Target target) {
        return Set.copyOf(readPins(poolId).getOrDefault(target.address(), new TreeSet<>()));
    }

    /** Chunks of the pool's latest generation on {@code target} that its last verify found bad. */
    synchronized Set<String> suspects(String poolId, Target target) {
        return Set.copyOf(
                readState(
                                suspectFile(poolId),
                                new TypeReference<TreeMap<String, TreeSet<String>>>() {})
                        .getOrDefault(target.address(), new TreeSet<>()));
    }

    private synchronized void saveSuspects(String poolId, Target target, Set<String> chunkIds) {
        Path file = suspectFile(poolId);
        TreeMap<String, TreeSet<String>> all =
                readState(file, new TypeReference<TreeMap<String, TreeSet<String>>>() {});
        if (chunkIds.isEmpty()) {
            if (all.remove(target.address()) == null) {
                return;
            }
        } else {
            all.put(target.address(), new TreeSet<>(chunkIds));
        }
        writeState(file, all);
    }

    private Path suspectFile(String poolId) {
        return pinFile(poolId).getParent().resolveSibling("suspect").resolve(poolId + ".json");
    }

    private static <T extends Map<?, ?>> T readState(Path file, TypeReference<T> type) {
        try {
            return Files.exists(file)
                    ? JSON.readValue(file.toFile(), type)
                    : JSON.readValue("{}", type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void writeState(Path file, Object state) {
        try {
            Files.createDirectories(file.getParent());
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            JSON.writeValue(temp.toFile(), state);
            Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save " + file, e);
        }
    }

    private Map<String, TreeSet<Long>> readPins(String poolId) {
        return readState(pinFile(poolId), new TypeReference<TreeMap<String, TreeSet<Long>>>() {});
    }

    private Path pinFile(String poolId) {
        if (!poolId.matches("[A-Za-z0-9._-]+")) {
            throw ProblemException.badRequest("a pool id is letters, digits, '.', '_' and '-'");
        }
        return config.dataDir().toAbsolutePath().resolve("pins").resolve(poolId + ".json");
    }

    private Generation pick(Catalog catalog, String poolId, Target target, Optional<Long> number) {
        Optional<Generation> g =
                number.isPresent() ? catalog.generation(number.get()) : catalog.latest();
        return g.orElseThrow(
                () ->
                        ProblemException.notFound(
                                number.map(n -> "no generation " + n).orElse("no generation")
                                        + " of pool "
                                        + poolId
                                        + " on "
                                        + target.address()));
    }

    private Catalog catalog(Target target, Optional<String> poolId) {
        try {
            return new GenerationStore(rsync(target, Optional.empty()), workDir())
                    .catalog(slotKeys::keysFor, poolId);
        } catch (IOException e) {
            throw new ProblemException(
                    502, "Bad Gateway", "cannot list " + target.address() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProblemException(503, "Service Unavailable", "interrupted");
        }
    }

    private void acquire(String poolId, String what) {
        String other = running.putIfAbsent(poolId, what);
        if (other != null) {
            throw ProblemException.conflict(
                    "pool " + poolId + " has a " + other + " running; one run per pool at a time");
        }
    }

    /** The address a request's target resolves to (its own, or the default). */
    public String targetAddress(Optional<String> address) {
        return target(address).address();
    }

    private Target target(Optional<String> address) {
        String a =
                address.filter(s -> !s.isBlank())
                        .or(config::defaultTarget)
                        .orElseThrow(
                                () ->
                                        ProblemException.badRequest(
                                                "no target: name one, or set"
                                                        + " szpool.sync.default-target"));
        try {
            return Target.parse(a);
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage());
        }
    }

    private Rsync rsync(Target target, Optional<Integer> bwlimitKib) {
        SyncConfig.Rsync r = config.rsync();
        RsyncOptions options =
                new RsyncOptions(
                        r.binary(),
                        bwlimitKib.orElse(r.bwlimitKib()),
                        r.ioTimeout(),
                        r.connectTimeout(),
                        r.attempts(),
                        r.backoff(),
                        r.passwordFile(),
                        r.sshKey(),
                        r.sshPort(),
                        r.sshKnownHosts());
        return new Rsync(target, options);
    }

    private Path workDir() {
        return config.dataDir().toAbsolutePath().resolve("work");
    }

    private void failed(String poolId, String host, long generation, Target target, String reason) {
        LOG.warnf("pool %s: sync to %s failed: %s", poolId, target.address(), reason);
        lastRuns.put(
                poolId,
                new LastRun("sync", target.address(), generation, false, reason, Instant.now()));
        try {
            publish(new SyncFailed(poolId, host, generation, target.address(), reason));
        } catch (RuntimeException e) {
            LOG.errorf("cannot report the failed sync of pool %s: %s", poolId, e.getMessage());
        }
    }

    private void restoreFailed(
            String poolId,
            String host,
            long generation,
            Target target,
            String step,
            String reason) {
        LOG.warnf(
                "pool %s: restore of generation %d stopped at %s: %s",
                poolId, generation, step, reason);
        lastRuns.put(
                poolId,
                new LastRun("restore", target.address(), generation, false, reason, Instant.now()));
        try {
            publish(new RestoreFailed(poolId, host, generation, target.address(), step, reason));
        } catch (RuntimeException e) {
            LOG.errorf("cannot report the failed restore of pool %s: %s", poolId, e.getMessage());
        }
    }

    private void publish(Event event) {
        CompletableFuture<?> sent = publisher.publish(syncEvents, event).toCompletableFuture();
        try {
            sent.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "the broker did not take " + event.getClass().getSimpleName(), e);
        }
    }
}
