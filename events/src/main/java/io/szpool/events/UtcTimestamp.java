package io.szpool.events;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;

/**
 * Reads {@code ce_time} in the one form every szpool producer writes ({@code
 * 2026-11-27T14:03:34.123456789Z}, what {@code OffsetDateTime.toString} gives at UTC) by hand:
 * {@code OffsetDateTime.parse} was an eighth of the catalog's CPU samples during ingest
 * (catalog-service/DESIGN.md, "Scale"). Any other form is left to {@code OffsetDateTime.parse}.
 */
final class UtcTimestamp {
    private UtcTimestamp() {}

    /**
     * {@code yyyy-MM-ddTHH:mm[:ss[.fraction]]Z} as an instant, or null for any other text, an
     * impossible date included.
     */
    static Instant parse(byte[] text) {
        if (text == null || text.length < 17 || text[text.length - 1] != 'Z') {
            return null;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 2);
        int day = digits(text, 8, 2);
        int hour = digits(text, 11, 2);
        int minute = digits(text, 14, 2);
        if (year < 0
                || month < 0
                || day < 0
                || hour < 0
                || minute < 0
                || text[4] != '-'
                || text[7] != '-'
                || text[10] != 'T'
                || text[13] != ':'
                || hour > 23
                || minute > 59) {
            return null;
        }
        int end = text.length - 1;
        int second = 0;
        int nanos = 0;
        if (end > 16) {
            second = text[16] == ':' && end >= 19 ? digits(text, 17, 2) : -1;
            if (second < 0 || second > 59) {
                return null;
            }
            if (end > 19) {
                int fraction = end - 20;
                if (text[19] != '.' || fraction < 1 || fraction > 9) {
                    return null;
                }
                nanos = digits(text, 20, fraction);
                if (nanos < 0) {
                    return null;
                }
                for (int i = fraction; i < 9; i++) {
                    nanos *= 10;
                }
            }
        }
        try {
            long days = LocalDate.of(year, month, day).toEpochDay();
            return Instant.ofEpochSecond(days * 86_400 + hour * 3600 + minute * 60 + second, nanos);
        } catch (DateTimeException impossible) {
            return null;
        }
    }

    /** The number written by {@code n} ASCII digits at {@code from}, or -1. */
    private static int digits(byte[] text, int from, int n) {
        int value = 0;
        for (int i = from; i < from + n; i++) {
            int d = text[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            value = value * 10 + d;
        }
        return value;
    }
}
