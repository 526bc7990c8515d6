package io.szpool.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import io.szpool.events.DeviceEvent.ChunkCreated;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.junit.jupiter.api.Test;

class CloudEventRecordsTest {
    private final Event chunk = Samples.of(ChunkCreated.class);

    @Test
    void plainRecordCarriesBinaryModeHeadersAndPoolKey() {
        CloudEvent event = CloudEvent.of(chunk, "h1", "crypto-device-service");
        ProducerRecord<String, String> record = CloudEventRecords.toProducerRecord(event);
        assertEquals(Topics.DEVICE_EVENTS, record.topic());
        assertEquals(chunk.poolId(), record.key());
        assertEquals("1.0", CloudEventRecords.header(record.headers(), "ce_specversion"));
        assertEquals(
                "/hosts/h1/crypto-device-service",
                CloudEventRecords.header(record.headers(), "ce_source"));
        assertEquals(
                "io.szpool.chunk.created.v1",
                CloudEventRecords.header(record.headers(), "ce_type"));
        assertEquals(chunk.poolId(), CloudEventRecords.header(record.headers(), "ce_subject"));

        CloudEvent read = CloudEventRecords.fromRecord(record.headers(), record.value());
        assertEquals(event, read);
    }

    @Test
    void smallRyeMessageCarriesTheSameAttributes() {
        CloudEvent event = CloudEvent.of(chunk, "h1", "crypto-device-service");
        Message<String> message = CloudEventMessages.toMessage(event);
        @SuppressWarnings("unchecked")
        OutgoingCloudEventMetadata<String> ce =
                message.getMetadata(OutgoingCloudEventMetadata.class).orElseThrow();
        assertEquals(event.id(), ce.getId());
        assertEquals(event.type(), ce.getType());
        assertEquals(event.source(), ce.getSource());
        assertEquals(chunk.poolId(), ce.getSubject().orElseThrow());
        assertEquals("application/json", ce.getDataContentType().orElseThrow());
        assertEquals(
                chunk.poolId(),
                message.getMetadata(OutgoingKafkaRecordMetadata.class).orElseThrow().getKey());
        assertEquals(EventCodec.toJson(chunk), message.getPayload());
    }

    @Test
    void idsAreUniquePerEvent() {
        assertTrue(
                !CloudEvent.of(chunk, "h1", "s").id().equals(CloudEvent.of(chunk, "h1", "s").id()));
    }

    @Test
    void recordWithoutHeadersIsNotACloudEvent() {
        InvalidEventException e =
                assertThrows(
                        InvalidEventException.class,
                        () -> CloudEventRecords.fromRecord(new RecordHeaders(), "{}"));
        assertTrue(e.getMessage().contains("ce_type"), e.getMessage());
    }

    @Test
    void badTimeIsRejected() {
        ProducerRecord<String, String> record =
                CloudEventRecords.toProducerRecord(CloudEvent.of(chunk, "h1", "s"));
        Headers headers = record.headers();
        headers.remove("ce_time");
        headers.add("ce_time", "yesterday".getBytes(StandardCharsets.UTF_8));
        assertThrows(
                InvalidEventException.class,
                () -> CloudEventRecords.fromRecord(headers, record.value()));
    }
}
