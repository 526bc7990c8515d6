package io.szpool.pool;

import static io.szpool.pool.PoolServices.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.szpool.nbd.NbdClient;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Damaged chunk files, through the services as users run them: 256 MiB of random data written with
 * nbdcopy into a pool of six encrypted chunks; with both services stopped, two chunk files of the
 * vdev are damaged (random ranges overwritten, one truncated, later deleted and replaced by zeros)
 * and pool-service's own record is shuffled and its addresses made stale; after the start, the data
 * reads back identical, scrub repairs and the status shows the counts. Then a third chunk is
 * damaged: reads of the affected stripes fail with an I/O error, never with wrong data.
 */
class PoolDamageIT {
    private static final long CHUNK = 72 * MIB; // four data columns: 288 MiB, room for 256 MiB
    private static final long DATA = 256 * MIB;
    private static final String NAME = "damaged";
    private PoolServices services;

    @AfterEach
    void stop() {
        if (services != null) {
            services.close();
        }
    }

    @Test
    void twoDamagedChunksReadBackAndScrubRepairsAThirdFailsLoudly() throws Exception {
        Nbdcopy.assumeInstalled();
        services = new PoolServices("damage", "60s");
        services.start();
        JsonNode created = services.create(NAME, CHUNK);
        String poolId = created.path("poolId").asText();
        Path original = Nbdcopy.randomFile(services.dir.resolve("original.img"), DATA, 42);
        Nbdcopy.Result in = Nbdcopy.copy("--flush", original.toString(), services.exportUri(NAME));
        assertEquals(0, in.exitCode(), in.output());
        assertReadsBackIdentical(original);
        List<String> columns = services.columns(NAME);
        String overwritten = columns.get(1);
        String truncated = columns.get(4);

        // Round 1: random ranges over one chunk, another truncated to 40 MiB.
        services.stop();
        overwrite(services.chunkFile(overwritten), new long[] {8, 30, 61}, 2 * MIB, 1);
        try (RandomAccessFile f =
                new RandomAccessFile(services.chunkFile(truncated).toFile(), "rw")) {
            f.setLength(40 * MIB);
        }
        services.start();
        services.awaitServing(NAME);
        JsonNode scrub = services.post("/pools/" + NAME + "/scrub", "", 200);
        assertTrue(scrub.path("errorsRepaired").asLong() > 0, scrub.toString());
        assertEquals(0, scrub.path("errorsUnrecoverable").asLong(), scrub.toString());
        JsonNode status = services.get("/pools/" + NAME);
        assertEquals("DEGRADED", status.path("health").asText(), status.toString());
        assertTrue(
                services.device(NAME, overwritten).path("checksumErrors").asLong() > 0,
                status.toString());
        assertEquals("UNAVAIL", services.device(NAME, truncated).path("state").asText());
        assertEquals("finished", status.path("scan").path("state").asText());
        assertReadsBackIdentical(original);
        JsonNode again = services.post("/pools/" + NAME + "/scrub", "", 200);
        assertEquals(0, again.path("errorsRepaired").asLong(), "the first scrub repaired it all");

        // Round 2: the truncated chunk deleted and replaced by zeros, other ranges overwritten;
        // pool-service's record lists the columns shuffled under stale addresses.
        services.stop();
        Path zeroed = services.chunkFile(truncated);
        Files.delete(zeroed);
        try (RandomAccessFile f = new RandomAccessFile(zeroed.toFile(), "rw")) {
            f.setLength(CHUNK);
        }
        overwrite(services.chunkFile(overwritten), new long[] {12, 50}, 4 * MIB, 2);
        shuffleRecord(poolId);
        services.start();
        services.awaitServing(NAME);
        scrub = services.post("/pools/" + NAME + "/scrub", "", 200);
        assertTrue(scrub.path("errorsRepaired").asLong() > 0, scrub.toString());
        assertEquals(0, scrub.path("errorsUnrecoverable").asLong(), scrub.toString());
        assertEquals("UNAVAIL", services.device(NAME, truncated).path("state").asText());
        assertReadsBackIdentical(original);

        // Round 3: the same range of two more chunks: three columns of those stripes are gone.
        services.stop();
        String third = columns.get(2);
        long[] lost = {20};
        overwrite(services.chunkFile(overwritten), lost, 8 * MIB, 3);
        overwrite(services.chunkFile(third), lost, 8 * MIB, 4);
        services.start();
        services.awaitServing(NAME);
        Path back = services.dir.resolve("back-3.img");
        Nbdcopy.Result out = Nbdcopy.copy(services.exportUri(NAME), back.toString());
        assertNotEquals(0, out.exitCode(), "nbdcopy must fail on lost stripes: " + out.output());
        assertTrue(out.output().contains("Input/output error"), out.output());
        int failed = 0;
        int correct = 0;
        byte[] expected = new byte[(int) MIB];
        try (NbdClient volume = services.volume(NAME);
                RandomAccessFile source = new RandomAccessFile(original.toFile(), "r")) {
            for (long at = 0; at < DATA; at += MIB) {
                byte[] got = new byte[(int) MIB];
                try {
                    volume.read(at, ByteBuffer.wrap(got));
                } catch (IOException e) {
                    failed++;
                    continue;
                }
                source.seek(at);
                source.readFully(expected);
                assertArrayEquals(expected, got, "wrong data at " + at + " instead of an error");
                correct++;
            }
        }
        assertTrue(failed > 0, "some reads hit the lost stripes");
        assertTrue(correct > failed, "the stripes with two or fewer bad columns still read back");
    }

    private void assertReadsBackIdentical(Path original) throws Exception {
        Path back = services.dir.resolve("back.img");
        Files.deleteIfExists(back);
        Nbdcopy.Result out = Nbdcopy.copy(services.exportUri(NAME), back.toString());
        assertEquals(0, out.exitCode(), out.output());
        assertEquals(-1, Nbdcopy.mismatch(original, back, DATA), "first differing byte");
    }

    /** Random bytes over {@code length} at each offset (in MiB) of a chunk file. */
    private static void overwrite(Path chunk, long[] offsetsMib, long length, long seed)
            throws IOException {
        Random random = new Random(seed);
        byte[] garbage = new byte[(int) length];
        try (RandomAccessFile f = new RandomAccessFile(chunk.toFile(), "rw")) {
            for (long at : offsetsMib) {
                random.nextBytes(garbage);
                f.seek(at * MIB);
                f.write(garbage);
            }
        }
    }

    /**
     * Shuffles the columns of vdev 0 in pool-service's saved record and points every chunk at an
     * address that no longer exists: the pool must be assembled from the labels on the devices.
     */
    private void shuffleRecord(String poolId) throws IOException {
        Path file = services.poolDataDir().resolve("pools").resolve(poolId + ".json");
        ObjectNode record = (ObjectNode) PoolServices.JSON.readTree(file.toFile());
        ArrayNode vdev = (ArrayNode) record.path("vdevs").get(0);
        List<JsonNode> chunks = new ArrayList<>();
        vdev.forEach(chunks::add);
        Collections.shuffle(chunks, new Random(9));
        vdev.removeAll();
        for (int i = 0; i < chunks.size(); i++) {
            ObjectNode c = (ObjectNode) chunks.get(i).deepCopy();
            c.put("deviceAddress", "nbd://127.0.0.1:1/renamed-" + i);
            vdev.add(c);
        }
        PoolServices.JSON.writeValue(file.toFile(), record);
    }
}
