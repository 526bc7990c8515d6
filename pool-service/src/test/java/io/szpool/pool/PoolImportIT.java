package io.szpool.pool;

import static io.szpool.pool.PoolServices.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.szpool.events.CloudEvent;
import io.szpool.events.PoolEvent.PoolHealthChanged;
import io.szpool.events.PoolEvent.PoolImported;
import io.szpool.events.Topics;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.ServiceProcess;
import io.szpool.testing.TopicReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A pool imported on hosts that have no record of it, from chunk files laid out as sync-service's
 * restore does and adopted by crypto-device-service ({@code POST /chunks/adopt}), through both
 * services as packaged processes on the real broker. Host A creates the pool and writes 256 MiB of
 * random data with nbdcopy. Host B gets all six chunk files in a fresh folder, listed in shuffled
 * order under new device addresses: the import by name assembles the pool from the labels, ONLINE,
 * data identical. Host C first gets three of the vdev's chunks and a blank one: 409 naming the
 * missing columns, nothing recorded; then one intact and one damaged chunk more: the import
 * rebuilds the damaged and the blank column, ONLINE, data identical, and a scrub finds nothing left
 * to repair.
 */
class PoolImportIT {
    private static final long CHUNK = 72 * MIB; // four data columns: 288 MiB, room for 256 MiB
    private static final long DATA = 256 * MIB;
    private static final String NAME = "tank";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final List<PoolServices> hosts = new ArrayList<>();

    @AfterEach
    void stop() {
        hosts.forEach(PoolServices::close);
    }

    @Test
    void restoredChunksImportByNameOnFreshHostsAndMissingColumnsAreRebuilt() throws Exception {
        Nbdcopy.assumeInstalled();
        PoolServices a = host("import-a");
        a.start();
        String poolId = a.create(NAME, CHUNK).path("poolId").asText();
        Path original = Nbdcopy.randomFile(a.dir.resolve("original.img"), DATA, 7);
        Nbdcopy.Result in = Nbdcopy.copy("--flush", original.toString(), a.exportUri(NAME));
        assertEquals(0, in.exitCode(), in.output());
        List<String> columns = a.columns(NAME);
        a.post("/pools/" + NAME + "/export", "", 200);
        a.stop();

        // Host B: every chunk, listed in reverse column order, at new addresses.
        PoolServices b = host("import-b");
        b.usePassphraseOf(a);
        b.start();
        Map<String, String> all = new LinkedHashMap<>();
        for (int i = columns.size() - 1; i >= 0; i--) {
            all.put(columns.get(i), "intact");
        }
        Path folderB = restoredFolder(a, poolId, all, b.dir.resolve("restored"));
        JsonNode adopted = adopt(b, folderB);
        assertEquals(poolId, adopted.path("poolId").asText());
        assertEquals(6, adopted.path("chunks").size(), adopted.toString());
        JsonNode imported = post(b.pool, "/pools/" + NAME + "/import", "", 200);
        assertEquals("ONLINE", imported.path("health").asText(), imported.toString());
        assertEquals("imported", imported.path("state").asText());
        assertEquals(poolId, imported.path("poolId").asText(), "the pool keeps its id");
        assertEquals(0, imported.path("rebuilt").size(), imported.toString());
        assertEquals(columns, b.columns(NAME), "columns as on host A, found from the labels");
        assertReadsBackIdentical(b, original);
        assertEquals(
                poolId,
                event(b.host, PoolImported.class).subject(),
                "PoolImported from host B, keyed by the pool's id");
        post(b.pool, "/pools/" + NAME + "/import", "", 200); // a record now: as before, a no-op

        // Bad input on host B.
        JsonNode unknown = post(b.pool, "/pools/nosuch/import", "", 404);
        assertTrue(
                unknown.path("detail").asText().contains("carries its label"), unknown.toString());
        post(b.pool, "/pools/other/import", "{\"poolId\":", 400);
        b.stop();

        // Host C: three columns of the vdev and a blank chunk: three missing, refused.
        PoolServices c = host("import-c");
        c.usePassphraseOf(a);
        c.start();
        String damaged = columns.get(1);
        String blank = columns.get(3);
        String late = columns.get(5);
        Map<String, String> first = new LinkedHashMap<>();
        for (String id : columns) {
            if (!id.equals(damaged) && !id.equals(late)) {
                first.put(id, id.equals(blank) ? "missing" : "intact");
            }
        }
        adopt(c, restoredFolder(a, poolId, first, c.dir.resolve("restored-1")));
        JsonNode refused = post(c.pool, "/pools/" + NAME + "/import", "", 409);
        String detail = refused.path("detail").asText();
        assertTrue(detail.contains("vdev 0 misses columns [1, 3, 5] of 6"), detail);
        assertTrue(detail.contains(blank), "names the chunk whose label does not read: " + detail);
        assertEquals(
                0, PoolServices.get(c.pool, "/pools").path("pools").size(), "nothing recorded");

        // Then the two others arrive, one of them damaged: two columns to rebuild.
        Map<String, String> second = new LinkedHashMap<>();
        second.put(late, "intact");
        second.put(damaged, "damaged");
        adopt(c, restoredFolder(a, poolId, second, c.dir.resolve("restored-2")));
        imported =
                post(c.pool, "/pools/" + NAME + "/import", "{\"poolId\":\"" + poolId + "\"}", 200);
        assertEquals("ONLINE", imported.path("health").asText(), imported.toString());
        List<String> rebuilt = new ArrayList<>();
        for (JsonNode r : imported.path("rebuilt")) {
            assertEquals(0, r.path("vdev").asInt());
            assertEquals(columns.get(r.path("column").asInt()), r.path("chunkId").asText());
            assertTrue(r.path("bytes").asLong() > 0, r.toString());
            rebuilt.add(r.path("chunkId").asText());
        }
        assertEquals(List.of(damaged, blank), rebuilt, imported.toString());
        assertReadsBackIdentical(c, original);
        JsonNode scrub = post(c.pool, "/pools/" + NAME + "/scrub", "", 200);
        assertEquals(0, scrub.path("errorsRepaired").asLong(), scrub.toString());
        assertEquals(0, scrub.path("errorsUnrecoverable").asLong(), scrub.toString());
        PoolHealthChanged health =
                (PoolHealthChanged) event(c.host, PoolHealthChanged.class).data();
        assertEquals("ONLINE", health.health().name(), health.toString());
    }

    private PoolServices host(String prefix) throws IOException {
        PoolServices s = new PoolServices(prefix, "60s");
        // 256 MiB fill the pool past the capacity threshold: a grow would change its shape.
        s.poolProperties.put("szpool.pool.auto-grow.enabled", "false");
        hosts.add(s);
        return s;
    }

    /**
     * What sync-service's restore writes for the chunks of host {@code a}: the key slot, a record
     * per chunk, {@code chunks/ID} for an intact image (a copy: the new host writes to it), {@code
     * damaged/ID} for a copy with random bytes over its first label and 16 MiB of data, and no
     * image for a missing one. Records are listed newest first, in the order given.
     */
    private static Path restoredFolder(
            PoolServices a, String poolId, Map<String, String> chunks, Path folder)
            throws IOException {
        Path device = a.deviceDataDir();
        Files.createDirectories(folder.resolve("keys"));
        Files.createDirectories(folder.resolve("records"));
        Files.createDirectories(folder.resolve("chunks"));
        Files.createDirectories(folder.resolve("damaged"));
        Files.copy(
                device.resolve("keys/" + poolId + ".slot"),
                folder.resolve("keys/" + poolId + ".slot"));
        Instant at = Instant.parse("2026-11-27T04:00:00Z");
        for (Map.Entry<String, String> e : chunks.entrySet()) {
            String id = e.getKey();
            ObjectNode record =
                    (ObjectNode)
                            PoolServices.JSON.readTree(
                                    device.resolve("records/" + id + ".json").toFile());
            record.put("attached", false);
            record.put("createdAt", at.toString());
            at = at.minusSeconds(60);
            PoolServices.JSON.writeValue(
                    folder.resolve("records/" + id + ".json").toFile(), record);
            Path source = device.resolve("chunks/" + id);
            switch (e.getValue()) {
                case "intact" -> Files.copy(source, folder.resolve("chunks/" + id));
                case "damaged" -> {
                    Path copy = folder.resolve("damaged/" + id);
                    Files.copy(source, copy);
                    Random random = new Random(11);
                    byte[] garbage = new byte[(int) (16 * MIB)];
                    try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
                        for (long offset : new long[] {0, 20 * MIB}) {
                            random.nextBytes(garbage);
                            f.seek(offset);
                            f.write(garbage);
                        }
                    }
                }
                default -> {} // missing: the record alone
            }
        }
        return folder;
    }

    private static JsonNode adopt(PoolServices host, Path folder) throws Exception {
        return post(
                host.device,
                "/chunks/adopt",
                "{\"folder\":\"" + folder.toAbsolutePath() + "\"}",
                200);
    }

    /** A POST that may take minutes (a resilver under load), its status asserted. */
    private static JsonNode post(ServiceProcess service, String path, String json, int status)
            throws Exception {
        HttpResponse<String> answer =
                HTTP.send(
                        HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + service.port() + path))
                                .header("Content-Type", "application/json")
                                .timeout(Duration.ofMinutes(10))
                                .POST(HttpRequest.BodyPublishers.ofString(json))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(status, answer.statusCode(), path + ": " + answer.body());
        System.out.println("POST " + path + " " + json + " -> " + status + " " + answer.body());
        return PoolServices.JSON.readTree(answer.body());
    }

    private static void assertReadsBackIdentical(PoolServices host, Path original)
            throws Exception {
        Path back = host.dir.resolve("back.img");
        Files.deleteIfExists(back);
        Nbdcopy.Result out = Nbdcopy.copy(host.exportUri(NAME), back.toString());
        assertEquals(0, out.exitCode(), out.output());
        assertEquals(-1, Nbdcopy.mismatch(original, back, DATA), "first differing byte");
        assertEquals(sha256(original, DATA), sha256(back, DATA));
    }

    private static String sha256(Path file, long length) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            long left = length;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    break;
                }
                sha.update(buffer, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The newest event of that type from the host's pool-service. */
    private static CloudEvent event(String host, Class<?> type) {
        try (TopicReader reader =
                new TopicReader(KafkaBroker.shared().bootstrapServers(), Topics.POOL_EVENTS)) {
            List<CloudEvent> events =
                    reader.events(
                            e ->
                                    e.source().toString().equals("/hosts/" + host + "/pool-service")
                                            && type.isInstance(e.data()),
                            1,
                            Duration.ofSeconds(30));
            assertEquals(1, events.size(), "a " + type.getSimpleName() + " from " + host);
            return events.get(0);
        }
    }
}
