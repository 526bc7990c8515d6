package io.szpool.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.szpool.events.DeviceEvent.ChunkAttached;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.junit.jupiter.api.Test;

/** The hand-read {@code ce_time} gives what {@code OffsetDateTime.parse} gives. */
class UtcTimestampTest {
    @Test
    void readsWhatProducersWriteAsOffsetDateTimeDoes() {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            Instant t =
                    Instant.ofEpochSecond(
                            random.nextLong() % 4_000_000_000L,
                            // whole seconds, millis, micros and nanos
                            switch (i % 5) {
                                case 0 -> 0;
                                case 1 -> random.nextInt(1000) * 1_000_000;
                                case 2 -> random.nextInt(1_000_000) * 1000;
                                default -> random.nextInt(1_000_000_000);
                            });
            if (i % 7 == 0) {
                t = Instant.ofEpochSecond(t.getEpochSecond() / 60 * 60); // whole minutes
            }
            if (t.getEpochSecond() < -62_135_596_800L) {
                continue; // before year 1: not four digits
            }
            String text = t.atOffset(ZoneOffset.UTC).toString();
            assertEquals(OffsetDateTime.parse(text).toInstant(), parse(text), text);
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
            assertNull(parse(text), text);
        }
    }

    @Test
    void aRecordsTimeInAnyFormReadsOrIsRefusedWithItsReason() {
        CloudEvent event =
                CloudEvent.of(new ChunkAttached("c1", "p1", "h1", "nbd://x/c1"), "h1", "device");
        ProducerRecord<String, String> sent = CloudEventRecords.toProducerRecord(event);
        Headers headers = sent.headers();
        assertEquals(event, CloudEventRecords.fromRecord(headers, sent.value()));

        headers.remove(CloudEventRecords.TIME);
        headers.add(CloudEventRecords.TIME, bytes("2026-11-27T15:03:34+01:00"));
        assertEquals(
                Instant.parse("2026-11-27T14:03:34Z"),
                CloudEventRecords.fromRecord(headers, sent.value()).time());

        headers.add(CloudEventRecords.TIME, bytes("2026-02-30T14:03Z"));
        InvalidEventException refused =
                assertThrows(
                        InvalidEventException.class,
                        () -> CloudEventRecords.fromRecord(headers, sent.value()));
        assertEquals(
                "ce_time is not an RFC 3339 timestamp: 2026-02-30T14:03Z", refused.getMessage());
    }

    private static Instant parse(String text) {
        return UtcTimestamp.parse(bytes(text));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
