package io.szpool.events;

import java.net.URI;
import java.time.Instant;
import java.util.UUID;

/**
 * The CloudEvents attributes of one record. {@code id} is unique per event and what consumers
 * deduplicate on; {@code source} is {@code /hosts/<hostId>/<service>}; {@code subject} the pool.
 */
public record CloudEvent(
        String id, URI source, String type, String subject, Instant time, Event data) {
    public static final String SPEC_VERSION = "1.0";
    public static final String CONTENT_TYPE = "application/json";

    public CloudEvent {
        Fields.required(id, "id");
        Fields.required(source, "source");
        Fields.required(type, "type");
        Fields.required(data, "data");
    }

    /** A new event from a service of a host, with a fresh id and the current time. */
    public static CloudEvent of(Event data, String hostId, String service) {
        return new CloudEvent(
                UUID.randomUUID().toString(),
                source(hostId, service),
                EventTypes.typeOf(data.getClass()),
                data.poolId(),
                Instant.now(),
                data);
    }

    public static URI source(String hostId, String service) {
        return URI.create("/hosts/" + hostId + "/" + service);
    }

    /** The Kafka key: the pool id, so a pool's records stay in order. */
    public String key() {
        return data.poolId();
    }

    public String topic() {
        return EventTypes.topicOf(data.getClass());
    }
}
