package io.szpool.catalog.api;

import io.szpool.service.ProblemException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Reading query parameters, each with a 400 answer that says what was expected. */
final class Params {
    private Params() {}

    /** An empty filter (?pool=) filters nothing, like an absent one. */
    static boolean present(String value) {
        return value != null && !value.isBlank();
    }

    static Duration duration(String name, String value) {
        if (!present(value)) {
            return null;
        }
        try {
            Duration d = Duration.parse(value);
            if (!d.isNegative()) {
                return d;
            }
        } catch (DateTimeParseException e) {
            // Falls through to the same answer as a negative duration.
        }
        throw ProblemException.badRequest(
                name + " must be an ISO-8601 duration such as PT1H or P1D, was '" + value + "'");
    }

    static int whole(String name, String value, int min, int max, int otherwise) {
        if (value == null) {
            return otherwise;
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // Falls through to the same answer as an out-of-range number.
        }
        throw ProblemException.badRequest(
                name
                        + " must be a whole number from "
                        + min
                        + " to "
                        + max
                        + ", was '"
                        + value
                        + "'");
    }

    static long cursor(String name, String value) {
        if (!present(value)) {
            return 0;
        }
        try {
            long n = Long.parseLong(value);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // Falls through.
        }
        throw ProblemException.badRequest(
                name
                        + " must be a cursor from a previous page (a whole number), was '"
                        + value
                        + "'");
    }

    /** A timestamp as a native query returns it, whichever JDBC type the driver chose. */
    static Instant instant(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Instant i) {
            return i;
        }
        if (value instanceof OffsetDateTime o) {
            return o.toInstant();
        }
        if (value instanceof Timestamp t) {
            return t.toInstant();
        }
        throw new IllegalStateException("not a timestamp: " + value.getClass());
    }

    static Long number(Object value) {
        return value == null ? null : ((Number) value).longValue();
    }
}
