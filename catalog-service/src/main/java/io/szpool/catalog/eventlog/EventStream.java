package io.szpool.catalog.eventlog;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;

/** Every newly cataloged event, to whoever listens now (the SSE stream); nothing is kept. */
@ApplicationScoped
public class EventStream {
    private final BroadcastProcessor<CatalogedEvent> processor = BroadcastProcessor.create();

    // Only committed events go out, so a listener never sees an event the catalog rolled back.
    // Four consumers commit concurrently; the processor wants its signals one at a time.
    synchronized void onCataloged(
            @Observes(during = TransactionPhase.AFTER_SUCCESS) CatalogedBatch batch) {
        batch.events().forEach(processor::onNext);
    }

    public Multi<CatalogedEvent> events() {
        return processor;
    }
}
