package io.szpool.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Gives a Quarkus test a real Kafka broker. The broker outlives each Quarkus application so that
 * the test classes of a module share one; the JVM's shutdown stops it.
 */
public class KafkaResource implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
        return Map.of("kafka.bootstrap.servers", KafkaBroker.shared().bootstrapServers());
    }

    @Override
    public void stop() {
        // The shared broker stops with the JVM; stopping here would cost a restart per test class.
    }
}
