package io.szpool.catalog.event;

import io.szpool.catalog.chunk.ChunkMapper;
import io.szpool.events.CloudEvent;
import io.szpool.events.DeviceEvent;
import io.szpool.events.InvalidEventException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;

/**
 * Applies one event to the catalog in one transaction: checks its id, changes the rows, records the
 * id. A redelivered event finds its id and changes nothing.
 */
@ApplicationScoped
public class CatalogEventHandler {
    private final ChunkMapper chunks;

    public CatalogEventHandler(ChunkMapper chunks) {
        this.chunks = chunks;
    }

    /** Returns false when the event was applied before. */
    @Transactional
    public boolean handle(CloudEvent event) {
        if (ProcessedEvent.findById(event.id()) != null) {
            return false;
        }
        Instant at = event.time() != null ? event.time() : Instant.now();
        if (event.data() instanceof DeviceEvent device) {
            chunks.apply(device, at);
        } else {
            throw new InvalidEventException(
                    "the catalog does not consume " + event.type() + " yet");
        }
        ProcessedEvent processed = new ProcessedEvent();
        processed.eventId = event.id();
        processed.type = event.type();
        processed.source = event.source().toString();
        processed.poolId = event.data().poolId();
        processed.processedAt = Instant.now();
        processed.persist();
        return true;
    }
}
