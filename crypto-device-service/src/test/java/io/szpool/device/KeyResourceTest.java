package io.szpool.device;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.szpool.crypto.KeySlot;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.WrongPassphraseException;
import io.szpool.testing.KafkaResource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Key slots through the REST API: passphrase change, export, check and repair, and the refusals
 * that leave a slot exactly as it was.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class KeyResourceTest {
    static final long MIB = 1L << 20;

    @ConfigProperty(name = "szpool.device.data-dir")
    Path dataDir;

    @Test
    void passphraseChangeRewrapsTheSameKeyAndLeavesChunkDataAlone() throws Exception {
        String pool = "k-" + UUID.randomUUID();
        String chunkId = provision(pool);
        String keyId = given().get("/chunks/" + chunkId).jsonPath().getString("keyId");
        Path chunk = dataDir.toAbsolutePath().resolve("chunks").resolve(chunkId);
        String chunkDigest = sha256(chunk);
        byte[] before = Files.readAllBytes(slot(pool));
        Path newFile = secretFile("correct horse battery staple " + UUID.randomUUID(), "rw-------");

        given().contentType(ContentType.JSON)
                .body("{\"newPassphraseFile\":\"" + newFile + "\"}")
                .post("/keys/" + pool + "/passphrase")
                .then()
                .statusCode(200)
                .body("keyId", equalTo(keyId))
                .body("repaired", equalTo(false));

        byte[] after = Files.readAllBytes(slot(pool));
        assertFalse(java.util.Arrays.equals(before, after), "the slot was re-wrapped");
        assertEquals(keyId, keyIdOf(after, Files.readString(newFile).strip()));
        assertThrows(
                WrongPassphraseException.class,
                () -> keyIdOf(after, configuredPassphrase()),
                "the old passphrase no longer opens it");
        assertEquals(chunkDigest, sha256(chunk), "no chunk byte changed");
        assertEquals(
                "rw-------",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(slot(pool))));

        // Back again the other way: the configured file holds the wanted passphrase, the old one
        // comes from a file.
        given().contentType(ContentType.JSON)
                .body("{\"oldPassphraseFile\":\"" + newFile + "\"}")
                .post("/keys/" + pool + "/passphrase")
                .then()
                .statusCode(200)
                .body("keyId", equalTo(keyId));
        assertEquals(keyId, keyIdOf(Files.readAllBytes(slot(pool)), configuredPassphrase()));
        given().post("/keys/" + pool + "/verify")
                .then()
                .statusCode(200)
                .body("keyId", equalTo(keyId));
    }

    @Test
    void aWrongOldPassphraseIs403AndChangesNothing() throws Exception {
        String pool = "k-" + UUID.randomUUID();
        provision(pool);
        byte[] before = Files.readAllBytes(slot(pool));
        Path wrong = secretFile("not the passphrase", "rw-------");
        Path next = secretFile("the next passphrase", "rw-------");
        given().contentType(ContentType.JSON)
                .body(
                        "{\"oldPassphraseFile\":\""
                                + wrong
                                + "\",\"newPassphraseFile\":\""
                                + next
                                + "\"}")
                .post("/keys/" + pool + "/passphrase")
                .then()
                .statusCode(403)
                .contentType("application/problem+json")
                .body("detail", containsString("does not open the key slot of pool " + pool));
        assertArrayEquals(before, Files.readAllBytes(slot(pool)));
    }

    @Test
    void passphrasesInTheBodyOrInReadableFilesAreRefused() throws Exception {
        String pool = "k-" + UUID.randomUUID();
        provision(pool);
        byte[] before = Files.readAllBytes(slot(pool));
        given().contentType(ContentType.JSON)
                .body("{\"newPassphrase\":\"in clear\"}")
                .post("/keys/" + pool + "/passphrase")
                .then()
                .statusCode(400)
                .body("detail", containsString("never travel in a request"));
        Path readable = secretFile("readable by all", "rw-r--r--");
        given().contentType(ContentType.JSON)
                .body("{\"newPassphraseFile\":\"" + readable + "\"}")
                .post("/keys/" + pool + "/passphrase")
                .then()
                .statusCode(400)
                .body("detail", containsString("chmod 600"));
        given().contentType(ContentType.JSON)
                .body("{\"newPassphraseFile\":\"relative/file\"}")
                .post("/keys/" + pool + "/passphrase")
                .then()
                .statusCode(400)
                .body("detail", containsString("absolute path"));
        assertArrayEquals(before, Files.readAllBytes(slot(pool)));
        given().contentType(ContentType.JSON)
                .body("{\"newPassphraseFile\":\"" + readable + "\"}")
                .post("/keys/no-such-pool/passphrase")
                .then()
                .statusCode(404);
        given().post("/keys/a..b/verify").then().statusCode(400);
    }

    /**
     * A slot sealed under another passphrase (a host configured with the wrong one): provisioning
     * into that pool is a clear 403 and makes no chunk file or record, and never a wrong key.
     */
    @Test
    void aPassphraseThatDoesNotOpenThePoolsSlotIs403AndProvisionsNothing() throws Exception {
        String pool = "k-" + UUID.randomUUID();
        Files.createDirectories(slot(pool).getParent());
        try (MasterKey master = MasterKey.generate()) {
            KeySlot.seal(master, "somebody else's passphrase".toCharArray()).write(slot(pool));
        }
        byte[] sealed = Files.readAllBytes(slot(pool));
        long chunksBefore = filesIn("chunks");
        long recordsBefore = filesIn("records");
        given().contentType(ContentType.JSON)
                .body("{\"poolId\":\"" + pool + "\",\"count\":2,\"sizeBytes\":67108864}")
                .post("/chunks")
                .then()
                .statusCode(403)
                .contentType("application/problem+json")
                .body("detail", containsString("passphrase does not open the key slot of pool"));
        given().post("/keys/" + pool + "/verify").then().statusCode(403);
        assertEquals(chunksBefore, filesIn("chunks"), "no chunk file made");
        assertEquals(recordsBefore, filesIn("records"), "no chunk record made");
        given().get("/chunks?pool=" + pool)
                .then()
                .statusCode(200)
                .body("chunks.size()", equalTo(0));
        assertArrayEquals(sealed, Files.readAllBytes(slot(pool)), "the slot is left alone");
    }

    private long filesIn(String folder) throws Exception {
        Path dir = dataDir.toAbsolutePath().resolve(folder);
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var files = Files.list(dir)) {
            return files.count();
        }
    }

    @Test
    void aCorruptSlotIsAClearErrorAndStaysAsItWas() throws Exception {
        String pool = "k-" + UUID.randomUUID();
        provision(pool);
        byte[] truncated = java.util.Arrays.copyOf(Files.readAllBytes(slot(pool)), 100);
        Files.write(slot(pool), truncated);
        Path next = secretFile("the next passphrase", "rw-------");
        given().contentType(ContentType.JSON)
                .body("{\"newPassphraseFile\":\"" + next + "\"}")
                .post("/keys/" + pool + "/passphrase")
                .then()
                .statusCode(500)
                .contentType("application/problem+json")
                .body("detail", containsString("damaged beyond repair"))
                .body("detail", containsString("100 bytes"));
        given().get("/keys/" + pool + "/slot").then().statusCode(500);
        given().post("/keys/" + pool + "/verify").then().statusCode(500);
        assertArrayEquals(truncated, Files.readAllBytes(slot(pool)), "no partial rewrite");
    }

    @Test
    void aSlotWithOneDamagedCopyOpensAndIsRewritten() throws Exception {
        String pool = "k-" + UUID.randomUUID();
        String chunkId = provision(pool);
        String keyId = given().get("/chunks/" + chunkId).jsonPath().getString("keyId");
        byte[] damaged = Files.readAllBytes(slot(pool));
        damaged[120] ^= 0x01; // inside the second copy's GCM ciphertext
        Files.write(slot(pool), damaged);
        given().post("/keys/" + pool + "/verify")
                .then()
                .statusCode(200)
                .body("keyId", equalTo(keyId))
                .body("repaired", equalTo(true));
        byte[] repaired = Files.readAllBytes(slot(pool));
        assertFalse(java.util.Arrays.equals(damaged, repaired));
        given().post("/keys/" + pool + "/verify")
                .then()
                .statusCode(200)
                .body("repaired", equalTo(false));
        assertEquals(keyId, keyIdOf(repaired, configuredPassphrase()));
    }

    @Test
    void theExportedSlotIsTheStoredRandomLookingBytesAndOpensWithThePassphrase() throws Exception {
        String pool = "k-" + UUID.randomUUID();
        String chunkId = provision(pool);
        String keyId = given().get("/chunks/" + chunkId).jsonPath().getString("keyId");
        byte[] exported =
                given().get("/keys/" + pool + "/slot")
                        .then()
                        .statusCode(200)
                        .contentType("application/octet-stream")
                        .extract()
                        .asByteArray();
        assertArrayEquals(Files.readAllBytes(slot(pool)), exported);
        assertEquals(152, exported.length);
        String text = new String(exported, StandardCharsets.ISO_8859_1);
        assertFalse(text.contains(configuredPassphrase()));
        assertFalse(text.contains("szpool"));
        assertFalse(HexFormat.of().formatHex(exported).contains(keyId), "no public key id inside");
        assertEquals(keyId, keyIdOf(exported, configuredPassphrase()));
        given().get("/keys/no-such-pool/slot")
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
    }

    private String provision(String pool) {
        return ChunkResourceTest.provisionIds(
                        "{\"poolId\":\"" + pool + "\",\"count\":1,\"sizeBytes\":" + 64 * MIB + "}")
                .get(0);
    }

    private Path slot(String pool) {
        return dataDir.toAbsolutePath().resolve("keys").resolve(pool + ".slot");
    }

    private static String keyIdOf(byte[] slot, String passphrase) throws Exception {
        try (MasterKey key = KeySlot.fromBytes(slot).unlock(passphrase.toCharArray()).masterKey()) {
            return key.keyId();
        }
    }

    private static String configuredPassphrase() throws Exception {
        return Files.readString(Path.of("src/test/resources/test-passphrase")).strip();
    }

    private static Path secretFile(String content, String mode) throws Exception {
        Path folder = Path.of("target/passphrases").toAbsolutePath();
        Files.createDirectories(folder);
        Path file =
                Files.createTempFile(
                        folder,
                        "pass",
                        "",
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, content + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
