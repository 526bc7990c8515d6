package io.szpool.catalog.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.InvalidEventException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;

/** The catalog's reading of {@code ce_time} gives what {@code OffsetDateTime.parse} gives. */
class RecordReaderTest {
    @Test
    void readsWhatProducersWriteAsOffsetDateTimeDoes() {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            Instant t =
                    Instant.ofEpochSecond(
                            random.nextLong() % 4_000_000_000L,
                            // whole seconds, whole minutes, millis, micros and nanos
                            switch (i % 5) {
                                case 0 -> 0;
                                case 1 -> random.nextInt(1000) * 1_000_000;
                                case 2 -> random.nextInt(1_000_000) * 1000;
                                default -> random.nextInt(1_000_000_000);
                            });
            if (i % 7 == 0) {
                t = Instant.ofEpochSecond(t.getEpochSecond() / 60 * 60);
            }
            String text = t.atOffset(ZoneOffset.UTC).toString();
            if (t.getEpochSecond() < -62_135_596_800L) {
                continue; // before year 1: not four digits
            }
            assertEquals(OffsetDateTime.parse(text).toInstant(), utc(text), text);
        }
    }

    @Test
    void leavesEveryOtherFormToOffsetDateTime() {
        for (String text :
                new String[] {
                    "2026-11-27T14:03:34+01:00",
                    "2026-11-27 14:03:34Z",
                    "2026-02-30T14:03:34Z",
                    "2026-13-01T14:03:34Z",
                    "2026-11-27T24:00:00Z",
                    "2026-11-27T14:60:00Z",
                    "2026-11-27T14:03:61Z",
                    "2026-11-27T14:03:3Z",
                    "2026-11-27T14:03:34.Z",
                    "2026-11-27T14:03:34.1234567890Z",
                    "2026-11-27T14:03:34,5Z",
                    "2026-11-27T14:03Zx",
                    "+12026-11-27T14:03:34Z",
                    "yesterday",
                    ""
                }) {
            assertNull(utc(text), text);
        }
    }

    @Test
    void aRecordReadsAsFromRecordReadsIt() {
        CloudEvent event =
                CloudEvent.of(new ChunkAttached("c1", "p1", "h1", "nbd://x/c1"), "h1", "device");
        ProducerRecord<String, String> sent = CloudEventRecords.toProducerRecord(event);
        ConsumerRecord<String, String> record = received(sent);
        CloudEvent read = RecordReader.read(record);
        assertEquals(CloudEventRecords.fromRecord(record.headers(), record.value()), read);
        assertEquals(event.time(), read.time());

        // Another form: read (or refused) by fromRecord itself, with its reason.
        record.headers().remove(CloudEventRecords.TIME);
        record.headers().add(CloudEventRecords.TIME, bytes("2026-11-27T15:03:34+01:00"));
        assertEquals(Instant.parse("2026-11-27T14:03:34Z"), RecordReader.read(record).time());
        record.headers().add(new RecordHeader(CloudEventRecords.TIME, bytes("2026-02-30T14:03Z")));
        InvalidEventException refused =
                assertThrows(InvalidEventException.class, () -> RecordReader.read(record));
        assertEquals(
                "ce_time is not an RFC 3339 timestamp: 2026-02-30T14:03Z", refused.getMessage());
    }

    private static ConsumerRecord<String, String> received(ProducerRecord<String, String> sent) {
        ConsumerRecord<String, String> record =
                new ConsumerRecord<>(sent.topic(), 0, 0, sent.key(), sent.value());
        sent.headers().forEach(record.headers()::add);
        return record;
    }

    private static Instant utc(String text) {
        return RecordReader.utc(bytes(text));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
