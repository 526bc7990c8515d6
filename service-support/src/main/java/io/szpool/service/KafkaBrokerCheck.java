package io.szpool.service;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while the Kafka cluster answers: a service that cannot publish its events or hear its
 * commands is not ready, whatever its HTTP side says.
 */
@Readiness
@ApplicationScoped
public class KafkaBrokerCheck implements HealthCheck {
    private final String bootstrapServers;
    private Admin admin;

    public KafkaBrokerCheck(
            @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    @Override
    public HealthCheckResponse call() {
        try {
            String clusterId =
                    admin().describeCluster(new DescribeClusterOptions().timeoutMs(3000))
                            .clusterId()
                            .get(4, TimeUnit.SECONDS);
            return HealthCheckResponse.named("kafka-broker")
                    .up()
                    .withData("bootstrap.servers", bootstrapServers)
                    .withData("cluster.id", clusterId)
                    .build();
        } catch (Exception e) {
            return HealthCheckResponse.named("kafka-broker")
                    .down()
                    .withData("bootstrap.servers", bootstrapServers)
                    .withData("error", String.valueOf(e.getMessage()))
                    .build();
        }
    }

    private synchronized Admin admin() {
        if (admin == null) {
            admin =
                    Admin.create(
                            Map.of(
                                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000,
                                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000));
        }
        return admin;
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close();
        }
    }
}
