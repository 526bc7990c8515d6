package io.szpool.catalog.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The write path's timestamps as text name the same instants as {@code Instant.toString}. */
class TimestampTextTest {
    @Test
    void sameInstantAsInstantToString() {
        Random random = new Random(11);
        for (int i = 0; i < 20_000; i++) {
            Instant t =
                    Instant.ofEpochSecond(
                            random.nextLong() % 300_000_000_000L,
                            switch (i % 4) {
                                case 0 -> 0;
                                case 1 -> random.nextInt(1000) * 1_000_000;
                                case 2 -> random.nextInt(1_000_000) * 1000;
                                default -> random.nextInt(1_000_000_000);
                            });
            StringBuilder text = new StringBuilder();
            RowStore.iso(text, t);
            assertEquals(t, Instant.parse(text), text.toString());
            if (t.getNano() % 1000 == 0 && t.toString().length() == 27) {
                // micros: what the catalog stores, written exactly as Instant.toString does
                assertEquals(t.toString(), text.toString());
            }
        }
        StringBuilder text = new StringBuilder();
        RowStore.iso(text, Instant.parse("2026-11-27T14:06:07.404183Z"));
        assertEquals("2026-11-27T14:06:07.404183Z", text.toString());
    }
}
