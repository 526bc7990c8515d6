package io.szpool.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A real Kafka broker for tests: {@code KAFKA_BOOTSTRAP_SERVERS} when set, else a Testcontainers
 * broker where a Docker engine answers, else a single KRaft node started from {@code deploy/kafka}
 * as a child JVM on free loopback ports. One broker serves a whole test JVM and stops with it.
 */
public final class KafkaBroker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KafkaBroker.class.getName());
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static KafkaBroker shared;

    private final String bootstrapServers;
    private final Duration startTime;
    private final AutoCloseable stopper;

    private KafkaBroker(String bootstrapServers, Duration startTime, AutoCloseable stopper) {
        this.bootstrapServers = bootstrapServers;
        this.startTime = startTime;
        this.stopper = stopper;
    }

    /** The broker of this JVM, started on first use and stopped when the JVM exits. */
    public static synchronized KafkaBroker shared() {
        if (shared == null) {
            shared = start();
            KafkaBroker broker = shared;
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(broker::close, "szpool-kafka-broker-stop"));
        }
        return shared;
    }

    private static KafkaBroker start() {
        String external = System.getenv("KAFKA_BOOTSTRAP_SERVERS");
        if (external != null && !external.isBlank()) {
            LOG.info("Kafka: using KAFKA_BOOTSTRAP_SERVERS=" + external);
            return new KafkaBroker(external, Duration.ZERO, () -> {});
        }
        if (Docker.available()) {
            long t0 = System.nanoTime();
            KafkaContainer container = new KafkaContainer("apache/kafka:4.1.2");
            container.start();
            LOG.info("Kafka: Testcontainers broker at " + container.getBootstrapServers());
            return new KafkaBroker(
                    container.getBootstrapServers(),
                    Duration.ofNanos(System.nanoTime() - t0),
                    container::stop);
        }
        return startLocal(ProjectLayout.target().resolve("kafka-" + UUID.randomUUID()));
    }

    /** Starts a KRaft broker from {@code deploy/kafka}'s jars, keeping its data under dataDir. */
    public static KafkaBroker startLocal(Path dataDir) {
        long t0 = System.nanoTime();
        Path root = ProjectLayout.root();
        Path lib = root.resolve("deploy/kafka/target/lib");
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException(
                    "the broker's jars are missing at "
                            + lib
                            + ": run ./mvnw -pl deploy/kafka package");
        }
        int port = Ports.free();
        int controllerPort = Ports.free();
        Path log = dataDir.resolve("broker.log");
        Path properties = dataDir.resolve("server.properties");
        try {
            Files.createDirectories(dataDir);
            String template =
                    Files.readString(root.resolve("deploy/kafka/server.properties.template"));
            Files.writeString(
                    properties,
                    template.replace("@PORT@", Integer.toString(port))
                            .replace("@CONTROLLER_PORT@", Integer.toString(controllerPort))
                            .replace("@LOG_DIRS@", dataDir.resolve("logs").toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the broker in " + dataDir, e);
        }
        List<String> jvm = new ArrayList<>();
        jvm.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        jvm.addAll(
                List.of(
                        "-Xms128m",
                        "-Xmx512m",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-Dlog4j2.configurationFile="
                                + root.resolve("deploy/kafka/log4j2.properties"),
                        "-Dszpool.kafka.log=" + log,
                        "-cp",
                        lib + "/*"));

        List<String> format = new ArrayList<>(jvm);
        format.addAll(
                List.of(
                        "kafka.tools.StorageTool",
                        "format",
                        "-t",
                        clusterId(),
                        "-c",
                        properties.toString()));
        run(format, log, "format the broker's storage");

        List<String> serve = new ArrayList<>(jvm);
        serve.addAll(List.of("kafka.Kafka", properties.toString()));
        Process process;
        try {
            process =
                    new ProcessBuilder(serve)
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                            .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the broker", e);
        }
        String bootstrap = "127.0.0.1:" + port;
        AutoCloseable stopper = () -> stop(process);
        try {
            awaitReady(process, port, bootstrap, log);
        } catch (RuntimeException e) {
            stop(process);
            throw e;
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        LOG.info(
                "Kafka: broker ready at "
                        + bootstrap
                        + " in "
                        + took.toMillis()
                        + " ms, log "
                        + log);
        return new KafkaBroker(bootstrap, took, stopper);
    }

    private static void awaitReady(Process process, int port, String bootstrap, Path log) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Ports.accepts(port)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the broker exited early; see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "the broker did not open " + bootstrap + "; see " + log);
            }
            sleep(100);
        }
        // The port opens before the broker has joined its own quorum; describeCluster waits for
        // that.
        try (Admin admin =
                Admin.create(
                        Map.of(
                                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000,
                                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60000))) {
            admin.describeCluster().clusterId().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "the broker at " + bootstrap + " does not answer; see " + log, e);
        }
    }

    private static void run(List<String> command, Path log, String what) {
        try {
            Process p =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                            .start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out trying to " + what + "; see " + log);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(
                        "cannot " + what + " (exit " + p.exitValue() + "); see " + log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot " + what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted trying to " + what, e);
        }
    }

    private static void stop(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A KRaft cluster id: 16 random bytes in URL-safe base64, as {@code StorageTool random-uuid}.
     */
    private static String clusterId() {
        while (true) {
            UUID uuid = UUID.randomUUID();
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(16);
            bytes.putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
            String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
            // StorageTool would read an id starting with '-' as an option and refuse to format.
            if (id.charAt(0) != '-') {
                return id;
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the broker", e);
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** How long the broker took to become ready (zero for an external one). */
    public Duration startTime() {
        return startTime;
    }

    @Override
    public void close() {
        try {
            stopper.close();
        } catch (Exception e) {
            LOG.warning("stopping the broker failed: " + e);
        }
    }
}
