package io.szpool.catalog.api;

import io.szpool.catalog.api.SummaryResource.Summary;
import io.szpool.catalog.api.SummaryResource.Thresholds;
import io.szpool.catalog.eventlog.CatalogedBatch;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The last fleet summary, and how many batches had been cataloged when its count began: reused
 * while no batch has committed since and for at most {@link #REUSE}; one count at a time.
 */
@ApplicationScoped
public class SummaryCache {
    static final Duration REUSE = Duration.ofSeconds(10);

    private final AtomicLong batches = new AtomicLong();
    private Thresholds thresholds;
    private long countedAfter = -1;
    private Summary summary;

    void onCataloged(@Observes(during = TransactionPhase.AFTER_SUCCESS) CatalogedBatch batch) {
        batches.incrementAndGet();
    }

    synchronized Summary get(Thresholds t, Instant now, Function<Instant, Summary> count) {
        if (summary != null
                && t.equals(thresholds)
                && countedAfter == batches.get()
                && now.isBefore(summary.at().plus(REUSE))) {
            return summary;
        }
        long before = batches.get();
        Summary fresh = count.apply(now);
        thresholds = t;
        countedAfter = before;
        summary = fresh;
        return fresh;
    }
}
