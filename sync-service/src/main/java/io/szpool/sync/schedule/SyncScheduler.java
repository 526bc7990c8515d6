package io.szpool.sync.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.szpool.service.ProblemException;
import io.szpool.sync.config.SyncConfig;
import io.szpool.sync.run.SyncService;
import io.szpool.sync.run.SyncService.SyncOrder;
import io.szpool.sync.schedule.RunQueue.Outcome;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The triggers that sync a pool to the default target without an operator waiting for it: its
 * schedule (default every 15 minutes, per pool through {@code PUT /syncs/{pool}/schedule}), its
 * growth ({@code PoolGrown}) and a {@code SyncPool} command that finds it busy. All go through one
 * {@link RunQueue}: one run per pool at a time, requests during a run coalesced into one more run.
 * When each pool last ran is kept in {@code data-dir/schedule.json}, so a restart does not sync
 * every pool at once.
 */
@ApplicationScoped
public class SyncScheduler {
    private static final Logger LOG = Logger.getLogger(SyncScheduler.class);
    private static final ObjectMapper JSON =
            JsonMapper.builder()
                    .addModule(new JavaTimeModule())
                    .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                    .build();

    /** One pool's schedule: its own interval (null: the default) and when it last ran. */
    public record PoolSchedule(Duration every, Instant lastRunAt) {}

    /** What {@code GET /syncs/{pool}/schedule} shows. */
    public record ScheduleView(
            String poolId,
            String every,
            boolean own,
            Instant lastRunAt,
            Instant nextRunAt,
            boolean running) {}

    private final SyncService syncs;
    private final SyncConfig config;
    private final Instant started = Instant.now();
    private final ExecutorService runs =
            Executors.newFixedThreadPool(
                    2,
                    r -> {
                        Thread t = new Thread(r, "sync-trigger");
                        t.setDaemon(true);
                        return t;
                    });
    private final RunQueue queue;
    private ScheduledExecutorService ticker;
    private boolean warnedNoTarget;

    public SyncScheduler(SyncService syncs, SyncConfig config) {
        this.syncs = syncs;
        this.config = config;
        this.queue = new RunQueue(runs, this::run);
    }

    void start(@Observes StartupEvent startup) {
        ticker =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "sync-schedule");
                            t.setDaemon(true);
                            return t;
                        });
        long tick = config.schedule().tick().toMillis();
        ticker.scheduleWithFixedDelay(this::tickSafely, tick, tick, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent shutdown) {
        if (ticker != null) {
            ticker.shutdownNow();
        }
        runs.shutdownNow();
    }

    /** Asks for a run of {@code poolId} to the default target. */
    public Outcome request(String poolId, String reason) {
        if (config.defaultTarget().isEmpty()) {
            throw ProblemException.badRequest(
                    "no default target (szpool.sync.default-target): triggered syncs need one");
        }
        Outcome o = queue.request(poolId, reason);
        LOG.infof("pool %s: sync requested (%s): %s", poolId, reason, o);
        return o;
    }

    /** Whether a triggered run of the pool is going. */
    public boolean running(String poolId) {
        return queue.running(poolId);
    }

    public synchronized ScheduleView view(String poolId) {
        PoolSchedule s = schedules().get(poolId);
        Duration every = every(s);
        Instant last = s == null ? null : s.lastRunAt();
        Instant next = every.isZero() ? null : (last == null ? started : last).plus(every);
        return new ScheduleView(
                poolId,
                every.toString(),
                s != null && s.every() != null,
                last,
                next,
                queue.running(poolId) || syncs.running(poolId));
    }

    /** Sets the pool's own interval ({@code PT0S}: not on a schedule; null: back to default). */
    public synchronized ScheduleView schedule(String poolId, Duration every) {
        if (!poolId.matches("[A-Za-z0-9._-]+")) {
            throw ProblemException.badRequest("a pool id is letters, digits, '.', '_' and '-'");
        }
        if (every != null && every.isNegative()) {
            throw ProblemException.badRequest("every must be PT0S (off) or more, was " + every);
        }
        Map<String, PoolSchedule> all = schedules();
        PoolSchedule s = all.get(poolId);
        all.put(poolId, new PoolSchedule(every, s == null ? null : s.lastRunAt()));
        save(all);
        return view(poolId);
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            LOG.warnf("sync schedule tick failed: %s", e.getMessage());
        }
    }

    private void tick() {
        if (config.defaultTarget().isEmpty()) {
            if (!warnedNoTarget) {
                LOG.info("no szpool.sync.default-target: pools are synced only when asked");
                warnedNoTarget = true;
            }
            return;
        }
        for (String poolId : queue.pending().keySet()) {
            if (!syncs.running(poolId)) {
                queue.retryPending(poolId);
            }
        }
        Map<String, PoolSchedule> all;
        synchronized (this) {
            all = schedules();
        }
        java.util.Set<String> pools = new java.util.TreeSet<>(syncs.knownPools());
        all.forEach(
                (id, s) -> {
                    if (s.every() != null && !s.every().isZero()) {
                        pools.add(id);
                    }
                });
        Instant now = Instant.now();
        for (String poolId : pools) {
            PoolSchedule s = all.get(poolId);
            Duration every = every(s);
            if (every.isZero() || queue.running(poolId)) {
                continue;
            }
            Instant last = s == null || s.lastRunAt() == null ? started : s.lastRunAt();
            if (!now.isBefore(last.plus(every))) {
                queue.request(poolId, "schedule");
            }
        }
    }

    private boolean run(String poolId, String reason) {
        try {
            syncs.sync(poolId, new SyncOrder(Optional.empty(), Optional.empty(), Optional.empty()));
        } catch (ProblemException e) {
            if (e.status() == 409) {
                return false;
            }
            // A failed run reported itself (SyncFailed); a refused one (no such pool) is logged.
            LOG.warnf("pool %s: %s sync: %s", poolId, reason, e.getMessage());
        } finally {
            ranAt(poolId, Instant.now());
        }
        return true;
    }

    private synchronized void ranAt(String poolId, Instant when) {
        Map<String, PoolSchedule> all = schedules();
        PoolSchedule s = all.get(poolId);
        all.put(poolId, new PoolSchedule(s == null ? null : s.every(), when));
        save(all);
    }

    private Duration every(PoolSchedule s) {
        return s != null && s.every() != null ? s.every() : config.schedule().every();
    }

    private Path file() {
        return config.dataDir().toAbsolutePath().resolve("schedule.json");
    }

    private Map<String, PoolSchedule> schedules() {
        Path file = file();
        try {
            return Files.exists(file)
                    ? JSON.readValue(
                            file.toFile(),
                            new com.fasterxml.jackson.core.type.TypeReference<
                                    TreeMap<String, PoolSchedule>>() {})
                    : new TreeMap<>();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private void save(Map<String, PoolSchedule> all) {
        Path file = file();
        try {
            Files.createDirectories(file.getParent());
            Path temp = file.resolveSibling("schedule.json.tmp");
            JSON.writeValue(temp.toFile(), all);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save " + file, e);
        }
    }
}
