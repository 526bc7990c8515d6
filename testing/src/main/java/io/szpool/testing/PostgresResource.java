package io.szpool.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** Gives a Quarkus test a real PostgreSQL as its default datasource. */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
        Postgres db = Postgres.shared();
        return Map.of(
                "quarkus.datasource.jdbc.url", db.jdbcUrl(),
                "quarkus.datasource.username", db.user(),
                "quarkus.datasource.password", db.password());
    }

    @Override
    public void stop() {
        // Shared for the JVM; see KafkaResource.
    }
}
