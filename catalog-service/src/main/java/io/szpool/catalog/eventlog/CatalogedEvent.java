package io.szpool.catalog.eventlog;

import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.Instant;

/**
 * One entry of the audit trail, as the API and the live stream show it. The payload is the event's
 * JSON as stored, written into the answer as it is: parsing it into a tree for every cataloged
 * event, only to write it out again (or to nobody, when no one follows the stream), was a tenth of
 * the ingest's allocations (DESIGN.md, "Scale").
 */
public record CatalogedEvent(
        long seq,
        String id,
        String type,
        String topic,
        String poolId,
        String hostId,
        String source,
        Instant time,
        @JsonRawValue String payload) {}
