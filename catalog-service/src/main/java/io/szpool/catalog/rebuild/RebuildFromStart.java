package io.szpool.catalog.rebuild;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The consumer half of a rebuild: with {@code szpool.catalog.rebuild=true} every partition the
 * catalog's consumer group is given goes back to its first offset, once per partition and process,
 * so the emptied catalog (Flyway cleans it at start under the same flag) is filled again from the
 * whole history of the topics. A later rebalance keeps the committed offsets: replaying again would
 * be harmless (the handler is idempotent on the event id) but slow.
 */
@ApplicationScoped
@Identifier(RebuildFromStart.NAME)
public class RebuildFromStart implements KafkaConsumerRebalanceListener {
    /** The name the channels' {@code consumer-rebalance-listener.name} refers to. */
    public static final String NAME = "szpool-catalog-rebuild";

    private static final Logger LOG = Logger.getLogger(RebuildFromStart.class);

    private final boolean rebuild;
    private final Set<TopicPartition> rewound = ConcurrentHashMap.newKeySet();

    public RebuildFromStart(@ConfigProperty(name = "szpool.catalog.rebuild") boolean rebuild) {
        this.rebuild = rebuild;
    }

    @Override
    public void onPartitionsAssigned(
            Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        if (!rebuild) {
            return;
        }
        List<TopicPartition> first = new ArrayList<>();
        for (TopicPartition partition : partitions) {
            if (rewound.add(partition)) {
                first.add(partition);
            }
        }
        if (!first.isEmpty()) {
            consumer.seekToBeginning(first);
            LOG.infof("rebuild: reading %s from the beginning", first);
        }
    }
}
