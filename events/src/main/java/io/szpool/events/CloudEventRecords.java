package io.szpool.events;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * CloudEvents binary content mode on plain Kafka records: what consumers read (the headers of any
 * record, however it was written) and what plain producers such as the CLI write.
 */
public final class CloudEventRecords {
    public static final String SPEC_VERSION = "ce_specversion";
    public static final String ID = "ce_id";
    public static final String SOURCE = "ce_source";
    public static final String TYPE = "ce_type";
    public static final String SUBJECT = "ce_subject";
    public static final String TIME = "ce_time";
    public static final String CONTENT_TYPE = "content-type";

    private CloudEventRecords() {}

    public static ProducerRecord<String, String> toProducerRecord(CloudEvent event) {
        Headers headers = new RecordHeaders();
        put(headers, SPEC_VERSION, CloudEvent.SPEC_VERSION);
        put(headers, ID, event.id());
        put(headers, SOURCE, event.source().toString());
        put(headers, TYPE, event.type());
        if (event.subject() != null) {
            put(headers, SUBJECT, event.subject());
        }
        if (event.time() != null) {
            put(headers, TIME, event.time().atOffset(ZoneOffset.UTC).toString());
        }
        put(headers, CONTENT_TYPE, CloudEvent.CONTENT_TYPE);
        return new ProducerRecord<>(
                event.topic(), null, event.key(), EventCodec.toJson(event.data()), headers);
    }

    /**
     * Reads a record's headers and payload into an event.
     *
     * @throws InvalidEventException with a reason fit for a dead letter
     */
    public static CloudEvent fromRecord(Headers headers, String payload) {
        String type = header(headers, TYPE);
        if (type == null || type.isBlank()) {
            throw new InvalidEventException("not a CloudEvent: ce_type header missing");
        }
        String id = header(headers, ID);
        if (id == null || id.isBlank()) {
            throw new InvalidEventException("not a CloudEvent: ce_id header missing");
        }
        String source = header(headers, SOURCE);
        if (source == null || source.isBlank()) {
            throw new InvalidEventException("not a CloudEvent: ce_source header missing");
        }
        Event data = EventCodec.fromJson(type, payload);
        URI sourceUri;
        try {
            sourceUri = URI.create(source);
        } catch (IllegalArgumentException e) {
            throw new InvalidEventException("ce_source is not a URI reference: " + source);
        }
        return new CloudEvent(id, sourceUri, type, header(headers, SUBJECT), time(headers), data);
    }

    private static Instant time(Headers headers) {
        Header raw = headers == null ? null : headers.lastHeader(TIME);
        if (raw == null || raw.value() == null) {
            return null;
        }
        Instant usual = UtcTimestamp.parse(raw.value());
        if (usual != null) {
            return usual;
        }
        String time = new String(raw.value(), StandardCharsets.UTF_8);
        try {
            return OffsetDateTime.parse(time).toInstant();
        } catch (DateTimeParseException e) {
            throw new InvalidEventException("ce_time is not an RFC 3339 timestamp: " + time);
        }
    }

    public static String header(Headers headers, String name) {
        Header header = headers == null ? null : headers.lastHeader(name);
        return header == null || header.value() == null
                ? null
                : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static void put(Headers headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
