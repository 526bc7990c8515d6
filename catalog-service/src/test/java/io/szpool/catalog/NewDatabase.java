package io.szpool.catalog;

import io.szpool.testing.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/** A new, empty database in the test PostgreSQL, for a catalog that must own its database. */
final class NewDatabase {
    private NewDatabase() {}

    /** Creates {@code prefix_<random>} and returns its JDBC URL. */
    static String create(Postgres pg, String prefix) throws SQLException {
        String database = prefix + "_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection admin =
                        DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
                Statement s = admin.createStatement()) {
            s.execute("create database " + database);
        }
        return pg.jdbcUrl().replaceFirst("/[^/?]+(\\?|$)", "/" + database + "$1");
    }
}
