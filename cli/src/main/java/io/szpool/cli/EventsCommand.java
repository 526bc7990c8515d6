package io.szpool.cli;

import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.EventCodec;
import io.szpool.events.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Prints the fleet's events from the topics, oldest first; with --follow, waits for new ones. */
@Command(
        name = "events",
        mixinStandardHelpOptions = true,
        description = "Shows the fleet's events.")
final class EventsCommand implements Callable<Integer> {
    static final List<String> TOPICS =
            List.of(Topics.DEVICE_EVENTS, Topics.POOL_EVENTS, Topics.SYNC_EVENTS, Topics.COMMANDS);

    /** How long a group join may take before the reader gives up; generous for a busy host. */
    static final Duration ASSIGNMENT_TIMEOUT = Duration.ofSeconds(60);

    @Spec CommandSpec spec;

    @Option(names = "--pool", description = "Only the events of this pool id.")
    String pool;

    @Option(
            names = {"-f", "--follow"},
            description = "Keep printing new events until interrupted.")
    boolean follow;

    @Option(
            names = "--kafka",
            defaultValue = "${env:SZPOOL_KAFKA:-${sys:szpool.kafka:-127.0.0.1:19092}}",
            description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
    String kafka;

    @Option(names = "--json", description = "One JSON object per event.")
    boolean json;

    @Option(
            names = "--idle",
            defaultValue = "PT3S",
            description =
                    "Without --follow: once every event that was there at the start is printed,"
                            + " stop after this long without a new one; PT0S stops at once"
                            + " (default: ${DEFAULT-VALUE}).")
    Duration idle;

    @Override
    public Integer call() {
        if (idle.isNegative()) {
            throw new CliException(
                    "--idle must be PT0S or more, not " + idle, CliException.BAD_INPUT);
        }
        Properties props = new Properties();
        props.putAll(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka,
                        // A throwaway group: reading never moves anyone's offsets.
                        ConsumerConfig.GROUP_ID_CONFIG,
                        "szpool-cli-" + UUID.randomUUID(),
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                        "earliest",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        "false",
                        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                        StringDeserializer.class.getName(),
                        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                        StringDeserializer.class.getName(),
                        ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                        "10000"));
        PrintWriter out = spec.commandLine().getOut();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            try {
                consumer.listTopics(Duration.ofSeconds(10));
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                throw new CliException(
                        "cannot reach Kafka at " + kafka + " (is szpool up?)",
                        CliException.UNREACHABLE);
            }
            CatchUp start = new CatchUp(consumer);
            consumer.subscribe(TOPICS, start);
            long assignDeadline = System.nanoTime() + ASSIGNMENT_TIMEOUT.toNanos();
            // The idle clock starts only once the events that were there are printed: the group
            // join alone can outlast a few seconds on a loaded machine, and a clock started
            // before it printed nothing although the topics held events.
            Long quietSince = null;
            while (true) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<String, String> r : records) {
                    print(out, r);
                }
                out.flush();
                if (follow) {
                    continue;
                }
                long now = System.nanoTime();
                if (!start.reached()) {
                    if (now > assignDeadline) {
                        throw new CliException(
                                "Kafka at "
                                        + kafka
                                        + " assigned this reader no partitions within "
                                        + ASSIGNMENT_TIMEOUT.toSeconds()
                                        + " s",
                                CliException.UNREACHABLE);
                    }
                } else if (quietSince == null || !records.isEmpty()) {
                    quietSince = now;
                }
                if (quietSince != null && now - quietSince >= idle.toNanos()) {
                    return 0;
                }
            }
        }
    }

    /**
     * Notes the end of each partition when the group assigns it, so the reader knows when it has
     * printed every event that existed at that moment.
     */
    private static final class CatchUp implements ConsumerRebalanceListener {
        private final KafkaConsumer<String, String> consumer;
        private final Map<TopicPartition, Long> ends = new HashMap<>();
        private boolean assigned;

        CatchUp(KafkaConsumer<String, String> consumer) {
            this.consumer = consumer;
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            // The listener runs inside poll(), on the consumer's own thread: it may ask it.
            ends.putAll(consumer.endOffsets(partitions));
            assigned = true;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            partitions.forEach(ends::remove);
        }

        /** Assigned, and every partition read up to where it ended then. */
        boolean reached() {
            if (!assigned) {
                return false;
            }
            for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
                if (consumer.assignment().contains(end.getKey())
                        && consumer.position(end.getKey()) < end.getValue()) {
                    return false;
                }
            }
            return true;
        }
    }

    private void print(PrintWriter out, ConsumerRecord<String, String> r) {
        if (pool != null && !pool.equals(r.key())) {
            return;
        }
        CloudEvent event;
        try {
            event = CloudEventRecords.fromRecord(r.headers(), r.value());
        } catch (RuntimeException notAnEvent) {
            return;
        }
        if (json) {
            out.printf(
                    "{\"id\":\"%s\",\"time\":\"%s\",\"type\":\"%s\",\"source\":\"%s\",\"subject\":\"%s\",\"data\":%s}%n",
                    event.id(),
                    event.time(),
                    event.type(),
                    event.source(),
                    event.subject(),
                    EventCodec.toJson(event.data()));
        } else {
            out.printf(
                    "%s  %-40s  %-20s  %s%n",
                    event.time(), event.type(), event.subject(), EventCodec.toJson(event.data()));
        }
    }
}
