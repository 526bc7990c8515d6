package io.szpool.catalog.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.catalog.ingest.RowStore.LogRow;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.PostgresResource;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The binary COPY of the write path against the real PostgreSQL: text that is not ASCII, text
 * longer than the 64 KiB buffer (ASCII or not), nulls and timestamps before and after PostgreSQL's
 * epoch come back from the event log exactly as they were written.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresResource.class, scope = TestResourceScope.GLOBAL)
class BinaryCopyTest {
    @Inject DataSource dataSource;

    @Test
    void whatTheLogIsGivenComesBackAsItWas() throws Exception {
        String run = UUID.randomUUID().toString();
        List<String> payloads =
                List.of(
                        "{\"name\":\"tank\"}",
                        "{\"name\":\"Zürich ✓ 池 \\\\ \\t\"}",
                        "{\"pad\":\"" + "a".repeat(70_000) + "\"}",
                        "{\"pad\":\"" + "é".repeat(40_000) + "\"}",
                        "{\"pad\":\"" + "b".repeat(65_530) + "\"}");
        List<Instant> times =
                List.of(
                        Instant.parse("2026-11-27T17:03:34.123456Z"),
                        Instant.parse("1999-12-31T23:59:59.999999Z"),
                        Instant.parse("1970-01-01T00:00:00Z"),
                        Instant.parse("2000-01-01T00:00:00.000001Z"),
                        Instant.parse("1850-06-01T12:00:00.5Z"));
        try (Connection db = dataSource.getConnection()) {
            RowStore store = new RowStore(db);
            long[] seq = store.sequence(payloads.size());
            List<LogRow> rows = new ArrayList<>();
            for (int i = 0; i < payloads.size(); i++) {
                rows.add(
                        new LogRow(
                                seq[i],
                                run + "-" + i,
                                "io.szpool.test.v1",
                                "szpool.test",
                                i % 2 == 0 ? null : "pool-ü-" + i,
                                null,
                                "/hosts/h/ß",
                                times.get(i),
                                payloads.get(i),
                                times.get(i)));
            }
            store.log(rows);
            try (PreparedStatement s =
                    db.prepareStatement(
                            "select event_id, pool_id, source, event_time, payload::text,"
                                    + " cataloged_at from event_log where event_id like ? order"
                                    + " by seq")) {
                s.setString(1, run + "-%");
                try (ResultSet rs = s.executeQuery()) {
                    for (int i = 0; i < payloads.size(); i++) {
                        rs.next();
                        assertEquals(run + "-" + i, rs.getString(1));
                        assertEquals(i % 2 == 0 ? null : "pool-ü-" + i, rs.getString(2));
                        assertEquals("/hosts/h/ß", rs.getString(3));
                        assertEquals(
                                times.get(i),
                                rs.getObject(4, java.time.OffsetDateTime.class).toInstant());
                        assertEquals(payloads.get(i), rs.getString(5), "payload " + i);
                        assertEquals(
                                times.get(i),
                                rs.getObject(6, java.time.OffsetDateTime.class).toInstant());
                    }
                }
            }
        }
    }
}
