package io.szpool.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.testing.KafkaBroker;
import io.szpool.testing.Postgres;
import io.szpool.testing.ServiceProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The operator's rebuild, as README.md describes it, on the packaged service: a catalog built from
 * the topics is stopped, started once with {@code szpool.catalog.rebuild=true}, and must come back
 * with the same rows, although everything it held before (including a row no event explains) was
 * dropped.
 */
class RebuildIT {
    @Test
    void aDroppedCatalogIsRebuiltFromTheTopicsWithTheSameRows() throws Exception {
        String bootstrap = KafkaBroker.shared().bootstrapServers();
        Postgres pg = Postgres.shared();
        // A database of its own: a rebuild drops everything in the catalog's database.
        String url = NewDatabase.create(pg, "catalog_rebuild");
        String suffix = "~" + UUID.randomUUID().toString().substring(0, 8);
        FleetHistory history = new FleetHistory(suffix);
        Publish.events(bootstrap, history.inOrder());

        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", bootstrap);
        config.put("quarkus.datasource.jdbc.url", url);
        config.put("quarkus.datasource.username", pg.user());
        config.put("quarkus.datasource.password", pg.password());
        String before;
        try (ServiceProcess catalog =
                        ServiceProcess.start("catalog-service", "catalog-built", config);
                Connection db = DriverManager.getConnection(url, pg.user(), pg.password())) {
            awaitAll(db, history);
            before = CatalogDump.of(db, suffix);
            try (Statement s = db.createStatement()) {
                // A row no event explains: a rebuild must not keep it.
                s.execute(
                        "insert into host (host_id, first_seen, last_seen) values ('stray"
                                + suffix
                                + "', now(), now())");
            }
        }
        assertTrue(before.contains("chunk_id=c3 ") && before.contains("state=FAULTED"), before);
        // The group's offsets are past the history, so without the rewind nothing would come back.
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            long committed =
                    admin
                            .listConsumerGroupOffsets("szpool-catalog")
                            .partitionsToOffsetAndMetadata()
                            .get()
                            .values()
                            .stream()
                            .mapToLong(OffsetAndMetadata::offset)
                            .sum();
            assertTrue(committed >= history.inOrder().size(), "committed offsets " + committed);
        }

        config.put("szpool.catalog.rebuild", "true");
        try (ServiceProcess catalog =
                        ServiceProcess.start("catalog-service", "catalog-rebuilt", config);
                Connection db = DriverManager.getConnection(url, pg.user(), pg.password())) {
            awaitAll(db, history);
            String after = CatalogDump.of(db, suffix);
            assertEquals(before, after);
            assertEquals(0, count(db, "select count(*) from host where host_id like 'stray%'"));
            // Flyway made the schema again: each migration once, nothing left from before.
            assertEquals(
                    migrations(),
                    count(db, "select count(*) from flyway_schema_history where success"),
                    "migrations after the rebuild");
        }
        assertNotEquals("", before);
    }

    /** Until the catalog has logged every event of the history. */
    private static void awaitAll(Connection db, FleetHistory history) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptions()
                .until(
                        () ->
                                count(
                                                db,
                                                "select count(*) from processed_event where"
                                                        + " event_id in ("
                                                        + String.join(
                                                                ",",
                                                                history.inOrder().stream()
                                                                        .map(
                                                                                e ->
                                                                                        "'" + e.id()
                                                                                                + "'")
                                                                        .toList())
                                                        + ")")
                                        == history.inOrder().size());
    }

    private static long count(Connection db, String sql) throws SQLException {
        try (Statement s = db.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long migrations() throws IOException {
        try (var files = Files.list(Path.of("src/main/resources/db/migration"))) {
            return files.filter(f -> f.getFileName().toString().matches("V\\d+__.*\\.sql")).count();
        }
    }
}
