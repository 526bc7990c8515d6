package io.szpool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.Topics;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.Postgres;
import io.szpool.testing.ProjectLayout;
import io.szpool.testing.ServiceProcess;
import io.szpool.testing.StandardXts;
import io.szpool.testing.TopicReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The walking skeleton, end to end: the four packaged services as processes on a real broker and a
 * real PostgreSQL. A chunk provisioned on a host shows up in the fleet catalog; records the catalog
 * cannot read become dead letters with a reason and do not stop it.
 */
class WalkingSkeletonIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MIB = 1L << 20;
    private static KafkaBroker broker;
    private static ServiceProcess device;
    private static ServiceProcess deviceB;
    private static ServiceProcess catalog;
    private static ServiceProcess pool;
    private static ServiceProcess sync;
    private static String deviceData;
    private static String passphraseFile;

    @BeforeAll
    static void startTheStack() {
        broker = KafkaBroker.shared();
        Postgres db = Postgres.shared();
        String kafka = broker.bootstrapServers();
        String data = ProjectLayout.target().resolve("e2e-data/host-a").toString();
        String passphrase = writePassphrase();
        deviceData = data;
        passphraseFile = passphrase;
        device =
                ServiceProcess.start(
                        "crypto-device-service",
                        "crypto-device-service-host-a",
                        Map.of(
                                "kafka.bootstrap.servers", kafka,
                                "szpool.host-id", "host-a",
                                "szpool.device.data-dir", data,
                                "szpool.device.nbd.port", "0",
                                "szpool.device.passphrase-file", passphrase));
        deviceB =
                ServiceProcess.start(
                        "crypto-device-service",
                        "crypto-device-service-host-b",
                        Map.of(
                                "kafka.bootstrap.servers",
                                kafka,
                                "szpool.host-id",
                                "host-b",
                                "szpool.device.data-dir",
                                ProjectLayout.target().resolve("e2e-data/host-b").toString(),
                                "szpool.device.nbd.port",
                                "0",
                                "szpool.device.passphrase-file",
                                passphrase));
        catalog =
                ServiceProcess.start(
                        "catalog-service",
                        "catalog-service",
                        Map.of(
                                "kafka.bootstrap.servers", kafka,
                                "quarkus.datasource.jdbc.url", db.jdbcUrl(),
                                "quarkus.datasource.username", db.user(),
                                "quarkus.datasource.password", db.password()));
        pool =
                ServiceProcess.start(
                        "pool-service",
                        "pool-service-host-a",
                        Map.of(
                                "kafka.bootstrap.servers",
                                kafka,
                                "szpool.host-id",
                                "host-a",
                                "szpool.pool.nbd.port",
                                "0",
                                "szpool.pool.data-dir",
                                ProjectLayout.target()
                                        .resolve("e2e-data/host-a-pools")
                                        .toString()));
        sync =
                ServiceProcess.start(
                        "sync-service",
                        "sync-service-host-a",
                        Map.of("kafka.bootstrap.servers", kafka, "szpool.host-id", "host-a"));
    }

    @AfterAll
    static void stopTheStack() {
        for (ServiceProcess p : new ServiceProcess[] {sync, pool, catalog, deviceB, device}) {
            if (p != null) {
                p.close();
            }
        }
    }

    @Test
    void aProvisionedChunkAppearsInTheCatalog() throws Exception {
        String poolId = "pool-" + UUID.randomUUID();
        Set<String> provisioned = provision(poolId, 2);
        assertEquals(2, provisioned.size());

        JsonNode rows = awaitCatalogChunks(poolId + "&state=attached", 2);
        Set<String> cataloged = new HashSet<>();
        for (JsonNode row : rows) {
            cataloged.add(row.get("chunkId").asText());
            assertEquals("host-a", row.get("hostId").asText());
            assertEquals(64 * MIB, row.get("sizeBytes").asLong());
            assertTrue(row.get("deviceAddress").asText().startsWith("nbd://127.0.0.1:"));
        }
        assertEquals(provisioned, cataloged);
    }

    @Test
    void unreadableRecordsBecomeDeadLettersAndConsumptionGoesOn() throws Exception {
        String poolId = "pool-" + UUID.randomUUID();
        CloudEvent good =
                CloudEvent.of(
                        new ChunkCreated(
                                "c-" + UUID.randomUUID(),
                                poolId,
                                "host-x",
                                "/x",
                                64 * MIB,
                                true,
                                io.szpool.events.Vocabulary.Cipher.AES_XTS_PLAIN64,
                                "k",
                                io.szpool.events.Vocabulary.Driver.EMBEDDED),
                        "host-x",
                        "crypto-device-service");
        ProducerRecord<String, String> malformed = CloudEventRecords.toProducerRecord(good);
        malformed =
                new ProducerRecord<>(
                        Topics.DEVICE_EVENTS,
                        null,
                        poolId,
                        "{\"chunkId\": oops",
                        malformed.headers());
        ProducerRecord<String, String> unknown =
                CloudEventRecords.toProducerRecord(CloudEvent.of(good.data(), "host-x", "x"));
        unknown.headers().remove(CloudEventRecords.TYPE);
        unknown.headers()
                .add(
                        CloudEventRecords.TYPE,
                        "io.szpool.chunk.exploded.v1".getBytes(StandardCharsets.UTF_8));
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(malformed).get();
            producer.send(unknown).get();
        }

        try (TopicReader deadLetters =
                new TopicReader(broker.bootstrapServers(), Topics.DEAD_LETTERS)) {
            // Every consumer of the topic (the catalog, pool-service) dead-letters what it cannot
            // read, so each bad record appears once per consumer.
            List<ConsumerRecord<String, String>> letters =
                    deadLetters.records(r -> poolId.equals(r.key()), 4, Duration.ofSeconds(60));
            assertTrue(letters.size() >= 2, "both records are dead letters");
            Set<String> reasons = new HashSet<>();
            for (ConsumerRecord<String, String> letter : letters) {
                reasons.add(CloudEventRecords.header(letter.headers(), "dead-letter-reason"));
            }
            assertTrue(
                    reasons.stream().anyMatch(r -> r.contains("malformed JSON")),
                    reasons.toString());
            assertTrue(
                    reasons.stream()
                            .anyMatch(
                                    r ->
                                            r.contains(
                                                    "unknown event type io.szpool.chunk.exploded.v1")),
                    reasons.toString());
        }

        // The consumer goes on: the next good record is cataloged.
        Set<String> provisioned = provision(poolId, 1);
        JsonNode rows = awaitCatalogChunks(poolId, 1);
        assertEquals(provisioned.iterator().next(), rows.get(0).get("chunkId").asText());
    }

    /**
     * The escape hatch: with the services' help only to write, a chunk file decrypts with the key
     * that {@code szpool key dump} prints and OpenSSL's AES-256-XTS, as cryptsetup would open it.
     */
    @Test
    void aChunkDecryptsWithTheDumpedKeyAndStandardTools() throws Exception {
        String poolId = "pool-" + UUID.randomUUID();
        HttpResponse<String> r =
                device.postJson(
                        "/chunks",
                        "{\"poolId\":\""
                                + poolId
                                + "\",\"count\":1,\"sizeBytes\":"
                                + 64 * MIB
                                + "}");
        assertEquals(201, r.statusCode(), r.body());
        JsonNode chunk = JSON.readTree(r.body()).get("chunks").get(0);
        java.net.URI address = java.net.URI.create(chunk.get("deviceAddress").asText());
        byte[] plain = new byte[8 * 4096];
        new java.util.Random(11).nextBytes(plain);
        long unit = 1000;
        try (io.szpool.nbd.NbdClient nbd =
                io.szpool.nbd.NbdClient.connect(
                        address.getHost(), address.getPort(), address.getPath().substring(1))) {
            nbd.write(unit * 4096, java.nio.ByteBuffer.wrap(plain), false);
            nbd.flush();
        }

        java.io.StringWriter out = new java.io.StringWriter();
        picocli.CommandLine cli = io.szpool.cli.Szpool.commandLine();
        cli.setOut(new java.io.PrintWriter(out));
        int exit =
                cli.execute(
                        "key",
                        "dump",
                        chunk.get("chunkId").asText(),
                        "--data",
                        deviceData,
                        "--passphrase-file",
                        passphraseFile);
        assertEquals(0, exit);
        String keyHex = out.toString().trim();

        byte[] cipher = new byte[plain.length];
        try (java.io.RandomAccessFile file =
                new java.io.RandomAccessFile(chunk.get("path").asText(), "r")) {
            file.seek(unit * 4096);
            file.readFully(cipher);
        }
        for (int i = 0; i < 8; i++) {
            byte[] decrypted =
                    StandardXts.decryptUnit(
                            keyHex,
                            unit + i,
                            java.util.Arrays.copyOfRange(cipher, i * 4096, (i + 1) * 4096));
            org.junit.jupiter.api.Assumptions.assumeTrue(decrypted != null, StandardXts.WHY_NONE);
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    java.util.Arrays.copyOfRange(plain, i * 4096, (i + 1) * 4096),
                    decrypted,
                    "unit " + (unit + i));
        }
    }

    /**
     * Two hosts on one broker: a command addressed to one is carried out there and nowhere else.
     */
    @Test
    void aCommandIsCarriedOutOnlyByTheHostItIsAddressedTo() throws Exception {
        String poolId = "pool-" + UUID.randomUUID();
        CloudEvent command =
                CloudEvent.of(
                        new io.szpool.events.Command.ProvisionChunks(
                                "req-" + poolId, "host-b", poolId, 2, 64 * MIB, true),
                        "host-a",
                        "pool-service");
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(CloudEventRecords.toProducerRecord(command)).get();
            // Redelivery of the same command must not provision twice.
            producer.send(CloudEventRecords.toProducerRecord(command)).get();
        }
        JsonNode rows = awaitCatalogChunks(poolId + "&state=attached", 2);
        for (JsonNode row : rows) {
            assertEquals("host-b", row.get("hostId").asText());
        }
        assertEquals(
                0, JSON.readTree(device.get("/chunks?pool=" + poolId).body()).get("chunks").size());
        Thread.sleep(2000);
        assertEquals(
                2,
                JSON.readTree(deviceB.get("/chunks?pool=" + poolId).body()).get("chunks").size());
        assertEquals(2, JSON.readTree(catalog.get("/api/chunks?pool=" + poolId).body()).size());
    }

    /**
     * The szpool command against the running stack: the catalog's chunks and the broker's events.
     */
    @Test
    void theCommandShowsChunksAndEvents() throws Exception {
        String poolId = "pool-" + UUID.randomUUID();
        Set<String> ids = provision(poolId, 1);
        awaitCatalogChunks(poolId, 1);
        String id = ids.iterator().next();

        java.io.StringWriter list = new java.io.StringWriter();
        picocli.CommandLine cli = io.szpool.cli.Szpool.commandLine();
        cli.setOut(new java.io.PrintWriter(list));
        assertEquals(
                0,
                cli.execute(
                        "chunk",
                        "list",
                        "--pool",
                        poolId,
                        "--catalog",
                        "http://127.0.0.1:" + catalog.port()));
        assertTrue(list.toString().contains(id), list.toString());

        java.io.StringWriter events = new java.io.StringWriter();
        cli = io.szpool.cli.Szpool.commandLine();
        cli.setOut(new java.io.PrintWriter(events));
        assertEquals(
                0,
                cli.execute(
                        "events",
                        "--pool",
                        poolId,
                        "--kafka",
                        broker.bootstrapServers(),
                        "--json"));
        String printed = events.toString();
        assertTrue(printed.contains("io.szpool.chunk.created.v1"), printed);
        assertTrue(printed.contains("io.szpool.chunk.attached.v1"), printed);
    }

    @Test
    void everyServiceAnswersHealth() throws Exception {
        for (ServiceProcess p : new ServiceProcess[] {device, catalog, pool, sync}) {
            HttpResponse<String> r = p.get("/q/health");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("UP", JSON.readTree(r.body()).get("status").asText());
        }
    }

    private static String writePassphrase() {
        try {
            java.nio.file.Path file = ProjectLayout.target().resolve("e2e-passphrase");
            java.nio.file.Files.writeString(file, "e2e passphrase " + UUID.randomUUID() + "\n");
            return file.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Set<String> provision(String poolId, int count) throws Exception {
        HttpResponse<String> r =
                device.postJson(
                        "/chunks",
                        "{\"poolId\":\""
                                + poolId
                                + "\",\"count\":"
                                + count
                                + ",\"sizeBytes\":"
                                + 64 * MIB
                                + "}");
        assertEquals(201, r.statusCode(), r.body());
        Set<String> ids = new HashSet<>();
        for (JsonNode chunk : JSON.readTree(r.body()).get("chunks")) {
            ids.add(chunk.get("chunkId").asText());
        }
        return ids;
    }

    private static JsonNode awaitCatalogChunks(String poolId, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode rows = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = catalog.get("/api/chunks?pool=" + poolId);
            assertEquals(200, r.statusCode(), r.body());
            rows = JSON.readTree(r.body());
            if (rows.size() >= count) {
                return rows;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(
                "catalog shows "
                        + (rows == null ? 0 : rows.size())
                        + " of "
                        + count
                        + " chunks of "
                        + poolId
                        + "; see "
                        + catalog.log());
    }

    private static KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    }
}
