package io.szpool.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A canonical text of one run's rows in every catalog table: rows ordered by key, the run's suffix
 * taken out of ids, and the columns that record when an event arrived (not what it said) left out.
 * Two catalogs built from the same events give the same text.
 */
final class CatalogDump {
    /** Table, the column naming the run's rows, and columns that record when, not what. */
    record Table(String name, String runColumn, String order, Set<String> ignored) {}

    static final List<Table> TABLES =
            List.of(
                    new Table("chunk", "pool_id", "chunk_id", Set.of()),
                    new Table("pool", "pool_id", "pool_id", Set.of()),
                    new Table("vdev", "pool_id", "pool_id, vdev_index", Set.of()),
                    new Table("vdev_chunk", "pool_id", "pool_id, vdev_index, position", Set.of()),
                    new Table("pool_growth", "pool_id", "pool_id, vdev_index", Set.of()),
                    new Table(
                            "sync_generation", "pool_id", "pool_id, target, generation", Set.of()),
                    new Table("restore", "pool_id", "pool_id, host_id, generation", Set.of()),
                    new Table("host", "host_id", "host_id", Set.of()),
                    new Table("host_service", "host_id", "host_id, service", Set.of()),
                    // The log's order and processing times are the order of arrival by design.
                    new Table("event_log", "pool_id", "event_id", Set.of("seq", "cataloged_at")),
                    new Table("processed_event", "pool_id", "event_id", Set.of("processed_at")));

    private CatalogDump() {}

    static String of(Connection c, String suffix) throws SQLException {
        StringBuilder out = new StringBuilder();
        for (Table t : TABLES) {
            out.append("## ").append(t.name()).append('\n');
            try (PreparedStatement s =
                    c.prepareStatement(
                            "select * from "
                                    + t.name()
                                    + " where "
                                    + t.runColumn()
                                    + " like ? order by "
                                    + t.order())) {
                s.setString(1, "%" + suffix);
                try (ResultSet rs = s.executeQuery()) {
                    ResultSetMetaData meta = rs.getMetaData();
                    while (rs.next()) {
                        List<String> cells = new ArrayList<>();
                        for (int i = 1; i <= meta.getColumnCount(); i++) {
                            String column = meta.getColumnName(i);
                            if (!t.ignored().contains(column)) {
                                cells.add(column + "=" + rs.getString(i));
                            }
                        }
                        out.append(String.join(" ", cells).replace(suffix, "")).append('\n');
                    }
                }
            }
        }
        return out.toString();
    }
}
