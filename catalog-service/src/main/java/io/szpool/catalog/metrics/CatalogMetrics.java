package io.szpool.catalog.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.Startup;
import io.szpool.catalog.chunk.ChunkState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The catalog's Prometheus meters. Counters count as events are consumed; the gauges read a
 * snapshot of the database that is refreshed at most every few seconds, when a scrape asks.
 */
// Started eagerly so the gauges exist before the first event or scrape.
@Startup
@ApplicationScoped
public class CatalogMetrics {
    private static final Logger LOG = Logger.getLogger(CatalogMetrics.class);
    private static final Duration FRESH = Duration.ofSeconds(5);

    private final MeterRegistry registry;
    private final EntityManager em;
    private final Map<String, Counter> consumed = new ConcurrentHashMap<>();
    private final Map<String, Counter> deadLettered = new ConcurrentHashMap<>();
    private final Map<ChunkState, Long> chunksByState = new EnumMap<>(ChunkState.class);
    private final MultiGauge poolSize;
    private final MultiGauge poolAllocated;
    private final MultiGauge poolSyncAge;
    private final MultiGauge poolSyncLag;
    private final MultiGauge poolHealth;
    private final ConsumerLag consumerLag;
    private volatile Instant refreshedAt = Instant.EPOCH;

    public CatalogMetrics(MeterRegistry registry, EntityManager em, ConsumerLag consumerLag) {
        this.registry = registry;
        this.em = em;
        this.consumerLag = consumerLag;
        for (ChunkState state : ChunkState.values()) {
            chunksByState.put(state, 0L);
            Gauge.builder("szpool.catalog.chunks", () -> chunks(state))
                    .description("chunks of the fleet by state")
                    .tag("state", state.wireName())
                    .register(registry);
        }
        poolSize =
                MultiGauge.builder("szpool.catalog.pool.size.bytes")
                        .description("pool size as last reported")
                        .register(registry);
        poolAllocated =
                MultiGauge.builder("szpool.catalog.pool.allocated.bytes")
                        .description("pool allocated bytes as last reported")
                        .register(registry);
        poolSyncAge =
                MultiGauge.builder("szpool.catalog.pool.last.sync.age.seconds")
                        .description("seconds since the pool's last completed sync generation")
                        .register(registry);
        poolSyncLag =
                MultiGauge.builder("szpool.catalog.pool.sync.lag.seconds")
                        .description(
                                "age of the oldest copy on a target among the pool's live chunks"
                                        + " (a never synced chunk counts from its creation)")
                        .register(registry);
        poolHealth =
                MultiGauge.builder("szpool.catalog.pool.health")
                        .description("1 for the pool's health as last reported")
                        .register(registry);
        consumerLag.register(registry);
    }

    public void consumed(String topic, int events) {
        consumed.computeIfAbsent(
                        topic,
                        t ->
                                Counter.builder("szpool.catalog.events.consumed")
                                        .description("events applied to the catalog")
                                        .tag("topic", t)
                                        .register(registry))
                .increment(events);
    }

    public void deadLettered(String topic) {
        deadLettered
                .computeIfAbsent(
                        topic,
                        t ->
                                Counter.builder("szpool.catalog.events.dead.lettered")
                                        .description("records sent to szpool.dead-letters")
                                        .tag("topic", t)
                                        .register(registry))
                .increment();
    }

    private synchronized double chunks(ChunkState state) {
        refresh();
        return chunksByState.get(state);
    }

    /** Reads the counts again if the snapshot is older than a few seconds. */
    public synchronized void refresh() {
        if (Instant.now().isBefore(refreshedAt.plus(FRESH))) {
            return;
        }
        try {
            QuarkusTransaction.requiringNew().run(this::read);
            consumerLag.refresh();
            refreshedAt = Instant.now();
        } catch (RuntimeException e) {
            // A scrape must not fail because the database is away; the last snapshot stays.
            LOG.debugf(e, "catalog metrics not refreshed");
        }
    }

    @SuppressWarnings("unchecked")
    private void read() {
        for (ChunkState state : ChunkState.values()) {
            chunksByState.put(state, 0L);
        }
        List<Object[]> rows =
                em.createNativeQuery("select state, count(*) from chunk group by state")
                        .getResultList();
        for (Object[] row : rows) {
            chunksByState.put(ChunkState.valueOf((String) row[0]), ((Number) row[1]).longValue());
        }
        List<Object[]> pools =
                em.createNativeQuery(
                                "select p.pool_id, p.size_bytes, p.allocated_bytes, extract(epoch"
                                        + " from now() - (select max(g.finished_at) from"
                                        + " sync_generation g where g.pool_id = p.pool_id and"
                                        + " g.state = 'completed')), p.health, extract(epoch from"
                                        + " now() - l.oldest) from pool p left join (select"
                                        + " pool_id, min(coalesce(last_synced_at, created_at))"
                                        + " oldest from chunk where state <> 'DESTROYED' group by"
                                        + " pool_id) l on l.pool_id = p.pool_id")
                        .getResultList();
        List<MultiGauge.Row<?>> size = new ArrayList<>();
        List<MultiGauge.Row<?>> allocated = new ArrayList<>();
        List<MultiGauge.Row<?>> syncAge = new ArrayList<>();
        List<MultiGauge.Row<?>> syncLag = new ArrayList<>();
        List<MultiGauge.Row<?>> health = new ArrayList<>();
        for (Object[] row : pools) {
            Tags tags = Tags.of("pool", (String) row[0]);
            if (row[1] != null) {
                size.add(MultiGauge.Row.of(tags, ((Number) row[1]).doubleValue()));
            }
            if (row[2] != null) {
                allocated.add(MultiGauge.Row.of(tags, ((Number) row[2]).doubleValue()));
            }
            if (row[3] != null) {
                syncAge.add(MultiGauge.Row.of(tags, ((Number) row[3]).doubleValue()));
            }
            if (row[4] != null) {
                health.add(MultiGauge.Row.of(tags.and("health", (String) row[4]), 1));
            }
            if (row[5] != null) {
                syncLag.add(MultiGauge.Row.of(tags, ((Number) row[5]).doubleValue()));
            }
        }
        poolSize.register(size, true);
        poolAllocated.register(allocated, true);
        poolSyncAge.register(syncAge, true);
        poolSyncLag.register(syncLag, true);
        poolHealth.register(health, true);
    }
}
