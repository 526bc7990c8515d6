package io.szpool.device;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.szpool.crypto.XtsKey;
import io.szpool.device.key.PoolKeyring;
import io.szpool.events.Topics;
import io.szpool.nbd.NbdClient;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.StandardXts;
import io.szpool.testing.TopicReader;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * The data path of an attached chunk: bytes through its NBD export, ciphertext on disk in
 * dm-crypt's aes-xts-plain64 format (checked with OpenSSL), and no key material anywhere it must
 * not be.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class DeviceDataTest {
    private static final long MIB = 1L << 20;
    private static final int UNIT = 4096;

    @Inject PoolKeyring keys;

    @ConfigProperty(name = "szpool.device.data-dir")
    Path dataDir;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void writesThroughTheExportAreXtsCiphertextThatOpensslDecrypts() throws Exception {
        String pool = "p-" + UUID.randomUUID();
        String address = provision(pool, 64 * MIB);
        String chunkId = address.substring(address.lastIndexOf('/') + 1);
        byte[] plain = new byte[(int) MIB];
        new Random(7).nextBytes(plain);
        long offset = 8 * MIB;
        try (NbdClient device = connect(address)) {
            device.write(offset, ByteBuffer.wrap(plain), false);
            device.flush();
            ByteBuffer back = ByteBuffer.allocate(plain.length);
            device.read(offset, back);
            assertArrayEquals(plain, back.array());
            ByteBuffer never = ByteBuffer.allocate(UNIT * 4);
            device.read(32 * MIB, never);
            assertArrayEquals(new byte[UNIT * 4], never.array(), "unwritten units read as zeros");
        }

        byte[] cipher = new byte[plain.length];
        try (RandomAccessFile file = new RandomAccessFile(chunkFile(chunkId).toFile(), "r")) {
            file.seek(offset);
            file.readFully(cipher);
        }
        assertFalse(java.util.Arrays.equals(plain, cipher), "the file holds ciphertext");

        assumeTrue(LocalTools.onPath("openssl"), "openssl is not installed");
        try (XtsKey key = keys.chunkKey(pool, chunkId)) {
            for (int i : new int[] {0, 1, 100, 255}) {
                long unit = offset / UNIT + i;
                byte[] unitCipher = java.util.Arrays.copyOfRange(cipher, i * UNIT, (i + 1) * UNIT);
                byte[] decrypted = StandardXts.decryptUnit(key.hex(), unit, unitCipher);
                assumeTrue(decrypted != null, StandardXts.WHY_NONE);
                assertArrayEquals(
                        java.util.Arrays.copyOfRange(plain, i * UNIT, (i + 1) * UNIT),
                        decrypted,
                        "unit " + unit + " decrypts with openssl aes-256-xts and IV " + unit * 8);
            }
        }
    }

    @Test
    void nbdcopyWrites256MiBAndReadsTheSameBytes() throws Exception {
        assumeTrue(LocalTools.onPath("nbdcopy"), "nbdcopy (libnbd-bin) is not installed");
        String address = provision("p-" + UUID.randomUUID(), 256 * MIB);
        Path scratch = Files.createTempDirectory(Path.of("target"), "nbdcopy");
        Path in = scratch.resolve("in.img");
        Path out = scratch.resolve("out.img");
        LocalTools.writeRandom(in, 256, 42);
        LocalTools.run("nbdcopy", "--flush", in.toString(), address);
        LocalTools.run("nbdcopy", address, out.toString());
        assertEquals(LocalTools.sha256(in), LocalTools.sha256(out));
        Files.delete(in);
        Files.delete(out);
        Files.delete(scratch);
    }

    @Test
    void noKeyOrPassphraseInEventsRestAnswersLogsOrRecords() throws Exception {
        String pool = "p-" + UUID.randomUUID();
        String address = provision(pool, 64 * MIB);
        String chunkId = address.substring(address.lastIndexOf('/') + 1);
        List<String> secrets;
        try (XtsKey key = keys.chunkKey(pool, chunkId)) {
            byte[] raw = key.bytes();
            secrets =
                    List.of(
                            Files.readString(Path.of("src/test/resources/test-passphrase")).trim(),
                            key.hex(),
                            key.hex().toUpperCase(),
                            Base64.getEncoder().encodeToString(raw),
                            HexFormat.of().formatHex(raw, 0, 32),
                            HexFormat.of().formatHex(raw, 32, 64));
        }
        StringBuilder seen = new StringBuilder();
        seen.append(given().get("/chunks").asString());
        seen.append(given().get("/chunks/" + chunkId).asString());
        seen.append(
                given().post("/keys/" + pool + "/verify")
                        .then()
                        .statusCode(200)
                        .extract()
                        .asString());
        seen.append(
                given().contentType(ContentType.JSON)
                        .body("{\"oldPassphraseFile\":\"/nonexistent\"}")
                        .post("/keys/" + pool + "/passphrase")
                        .asString());
        try (TopicReader reader = new TopicReader(bootstrap, Topics.DEVICE_EVENTS)) {
            List<ConsumerRecord<String, String>> records =
                    reader.records(r -> pool.equals(r.key()), 2, Duration.ofSeconds(30));
            assertEquals(2, records.size());
            for (ConsumerRecord<String, String> r : records) {
                seen.append(r.value());
                for (Header h : r.headers()) {
                    seen.append(new String(h.value(), StandardCharsets.UTF_8));
                }
            }
        }
        Path log = Path.of("target/quarkus-test.log");
        if (Files.exists(log)) {
            seen.append(Files.readString(log));
        }
        try (var records = Files.list(dataDir.toAbsolutePath().resolve("records"))) {
            for (Path r : (Iterable<Path>) records::iterator) {
                seen.append(Files.readString(r));
            }
        }
        String all = seen.toString();
        for (String secret : secrets) {
            assertFalse(all.contains(secret), "key material or passphrase leaked");
        }
    }

    private String provision(String pool, long size) {
        return given().contentType(ContentType.JSON)
                .body("{\"poolId\":\"" + pool + "\",\"count\":1,\"sizeBytes\":" + size + "}")
                .post("/chunks")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath()
                .getString("chunks[0].deviceAddress");
    }

    private Path chunkFile(String chunkId) {
        return dataDir.toAbsolutePath().resolve("chunks").resolve(chunkId);
    }

    private static NbdClient connect(String address) throws IOException {
        URI uri = URI.create(address);
        return NbdClient.connect(uri.getHost(), uri.getPort(), uri.getPath().substring(1));
    }
}
