package io.szpool.cli;

import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.EventCodec;
import io.szpool.events.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
                    "Without --follow, stop after this long without a new event (default: ${DEFAULT-VALUE}).")
    Duration idle;

    @Override
    public Integer call() {
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
            consumer.subscribe(TOPICS);
            long quietSince = System.nanoTime();
            while (follow || System.nanoTime() - quietSince < idle.toNanos()) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    quietSince = System.nanoTime();
                    print(out, r);
                }
                out.flush();
            }
        }
        return 0;
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
