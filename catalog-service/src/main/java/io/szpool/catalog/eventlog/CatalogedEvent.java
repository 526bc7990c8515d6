package io.szpool.catalog.eventlog;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** One entry of the audit trail, as the API and the live stream show it. */
public record CatalogedEvent(
        long seq,
        String id,
        String type,
        String topic,
        String poolId,
        String hostId,
        String source,
        Instant time,
        JsonNode payload) {}
