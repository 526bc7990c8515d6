package io.szpool.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.crypto.KeySlot;
import io.szpool.sync.generation.Digests;
import io.szpool.sync.generation.GenerationStore;
import io.szpool.sync.generation.GenerationStore.Catalog;
import io.szpool.sync.generation.GenerationStore.CheckReport;
import io.szpool.sync.generation.GenerationStore.ChunkCheck;
import io.szpool.sync.generation.GenerationStore.SyncResult;
import io.szpool.sync.generation.Manifest;
import io.szpool.sync.generation.ManifestCodec;
import io.szpool.sync.generation.TargetKeys;
import io.szpool.sync.remote.Rsync;
import io.szpool.sync.remote.RsyncOptions;
import io.szpool.sync.remote.Target;
import io.szpool.sync.source.AtRestChunkSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generation protocol against real targets through the system rsync: a local folder and a real
 * rsync daemon on loopback. Four chunks of 16 MiB (four segments each), half written, half hole.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class GenerationStoreIT {
    static final long CHUNK = 16L << 20;
    static final long SEGMENT = Manifest.SEGMENT_BYTES;
    static final int SEGMENTS = (int) (CHUNK / SEGMENT);
    static final String POOL = "tank-secret-name";

    @TempDir Path tmp;
    TestPool pool;
    TargetKeys keys;

    @BeforeEach
    void pool() throws IOException {
        pool = new TestPool(POOL, tmp.resolve("host"), 4, CHUNK);
        keys = TargetKeys.of(pool.master);
    }

    @AfterEach
    void close() {
        keys.close();
        pool.close();
    }

    GenerationStore store(Target target, RsyncOptions options) {
        return new GenerationStore(new Rsync(target, options), tmp.resolve("work"));
    }

    static RsyncOptions fast() {
        return RsyncOptions.defaults().withRetries(2, Duration.ofMillis(200));
    }

    SyncResult sync(GenerationStore store, int keep, Set<Long> pinned) throws Exception {
        try (AtRestChunkSource source = AtRestChunkSource.open(pool.dataDir, POOL)) {
            return store.sync(
                    source, keys, "host-a", keep, pinned, new GenerationStore.Listener() {});
        }
    }

    /** What a restore sees: the target and the passphrase, nothing else. */
    static Optional<TargetKeys> passphraseOnly(byte[] slot) {
        try {
            return Optional.of(
                    TargetKeys.of(KeySlot.fromBytes(slot).unlock(TestPool.PASSPHRASE).masterKey()));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    Map<String, String> digests() throws IOException {
        Map<String, String> d = new HashMap<>();
        for (String id : pool.chunkIds) {
            d.put(id, Digests.sha256(pool.chunk(id)));
        }
        return d;
    }

    void assertRestores(GenerationStore store, long generation, Map<String, String> expected)
            throws Exception {
        Catalog catalog = store.catalog(GenerationStoreIT::passphraseOnly, Optional.empty());
        Path into = tmp.resolve("restore-" + generation + "-" + System.nanoTime());
        CheckReport report =
                store.restore(
                        catalog.generation(generation).orElseThrow(),
                        into,
                        new GenerationStore.Listener() {});
        assertTrue(report.intact(), () -> "restore of generation " + generation + ": " + report);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertEquals(e.getValue(), Digests.sha256(into.resolve("chunks").resolve(e.getKey())));
        }
        assertArrayEquals(
                pool.slot.toBytes(),
                Files.readAllBytes(into.resolve("keys").resolve(POOL + ".slot")));
    }

    @Test
    void localFolderSecondGenerationSendsTheChangeAndLinksTheRest() throws Exception {
        Path root = tmp.resolve("target");
        GenerationStore store = store(Target.parse(root.toString()), fast());
        SyncResult first = sync(store, 7, Set.of());
        assertEquals(1, first.generation());
        assertEquals(4, first.chunksSent());
        Map<String, String> gen1 = digests();

        String changed = pool.chunkIds.get(1);
        pool.write(changed, 1 << 20, 64 * 1024);
        SyncResult second = sync(store, 7, Set.of());
        assertEquals(2, second.generation());
        assertEquals(1, second.chunksSent());
        // Segment 0 of the changed chunk travels; its other segments are links like the rest.
        assertEquals(4 * CHUNK - SEGMENT, second.bytesReferenced());
        // 64 KiB of plaintext changes 64 KiB of ciphertext; rsync's blocks round it up a little.
        assertTrue(second.literalBytes() >= 64 * 1024, "literal " + second.literalBytes());
        assertTrue(second.literalBytes() <= 2 * 64 * 1024, "literal " + second.literalBytes());

        String f1 = keys.generationFolder(1);
        String f2 = keys.generationFolder(2);
        for (String id : pool.chunkIds) {
            for (int k = 0; k < SEGMENTS; k++) {
                String name = keys.segmentFile(id, k);
                Object ino1 = Files.getAttribute(root.resolve(f1).resolve(name), "unix:ino");
                Object ino2 = Files.getAttribute(root.resolve(f2).resolve(name), "unix:ino");
                if (id.equals(changed) && k == 0) {
                    assertNotEquals(ino1, ino2, "a changed segment is a new file");
                } else {
                    assertEquals(ino1, ino2, "an unchanged segment is a hard link");
                }
            }
        }
        Manifest m2 = manifest(store, 2);
        assertEquals(Manifest.FORMAT, m2.format());
        Manifest.Chunk entry = m2.chunk(changed).orElseThrow();
        assertEquals(
                List.of(2L, 1L, 1L, 1L),
                entry.segments().stream().map(Manifest.Segment::sentIn).toList(),
                "only segment 0 was sent by generation 2");
        assertEquals(digests().get(changed), Digests.sha256(pool.chunk(changed)));
        assertEquals(
                Digests.ofSegments(
                        entry.segments().stream().map(Manifest.Segment::sha256).toList()),
                entry.sha256());
        assertRestores(store, 2, digests());
        assertRestores(store, 1, gen1);
    }

    @Test
    void rsyncDaemonDeltaVerifyAndNoLeaks() throws Exception {
        try (RsyncDaemon daemon = new RsyncDaemon(tmp.resolve("daemon"))) {
            RsyncOptions options =
                    fast().withCredentials(
                                    Optional.of(daemon.passwordFile),
                                    Optional.empty(),
                                    Optional.empty(),
                                    Optional.empty());
            Target target = Target.parse(daemon.url("site/a"));
            GenerationStore store = store(target, options);
            assertEquals(4, sync(store, 7, Set.of()).chunksSent());
            String changed = pool.chunkIds.get(2);
            pool.write(changed, 0, 64 * 1024);
            SyncResult second = sync(store, 7, Set.of());
            assertEquals(1, second.chunksSent());
            assertTrue(second.literalBytes() <= 2 * 64 * 1024, "literal " + second.literalBytes());
            assertTrue(second.literalBytes() >= 64 * 1024, "literal " + second.literalBytes());
            // Checksums for one 4 MiB segment plus the literal data: far less than a segment.
            assertTrue(second.bytesSent() < SEGMENT / 8, "sent " + second.bytesSent());
            assertRestores(store, 2, digests());

            assertNoLeaks(daemon.module);

            // Damage: one changed (unlinked) segment overwritten in place, one chunk's segments
            // deleted.
            Path g2 = daemon.module.resolve("site/a").resolve(keys.generationFolder(2));
            Path damaged = g2.resolve(keys.segmentFile(changed, 0));
            byte[] bytes = Files.readAllBytes(damaged);
            bytes[12345] ^= 0x5a;
            Files.write(damaged, bytes);
            String gone = pool.chunkIds.get(0);
            for (int k = 0; k < SEGMENTS; k++) {
                Files.delete(g2.resolve(keys.segmentFile(gone, k)));
            }
            Catalog catalog = store.catalog(GenerationStoreIT::passphraseOnly, Optional.empty());
            CheckReport report = store.verify(catalog.latest().orElseThrow(), catalog.listing());
            assertFalse(report.intact());
            assertEquals(
                    List.of(changed),
                    report.with(ChunkCheck.DAMAGED).stream().map(ChunkCheck::chunkId).toList());
            assertEquals(
                    List.of(gone),
                    report.with(ChunkCheck.MISSING).stream().map(ChunkCheck::chunkId).toList());
            // Generation 1 holds its own names of the same files: still whole.
            CheckReport first =
                    store.verify(catalog.generation(1).orElseThrow(), catalog.listing());
            assertTrue(first.intact(), first.toString());
        }
    }

    @Test
    void daemonStoppedMidTransferLeavesEarlierGenerationsAndTheNextRunSucceeds() throws Exception {
        try (RsyncDaemon daemon = new RsyncDaemon(tmp.resolve("daemon"))) {
            RsyncOptions options =
                    fast().withCredentials(
                                    Optional.of(daemon.passwordFile),
                                    Optional.empty(),
                                    Optional.empty(),
                                    Optional.empty());
            GenerationStore store = store(Target.parse(daemon.url("b")), options);
            sync(store, 7, Set.of());
            Map<String, String> gen1 = digests();
            for (String id : pool.chunkIds) {
                pool.write(id, 0, (int) (CHUNK / 2));
            }
            // 8 MiB of changes at 1 MiB/s: the daemon dies well before the run could finish.
            GenerationStore slow = store(Target.parse(daemon.url("b")), options.withBwlimit(1024));
            CompletableFuture<SyncResult> run =
                    CompletableFuture.supplyAsync(
                            () -> {
                                try {
                                    return sync(slow, 7, Set.of());
                                } catch (Exception e) {
                                    throw new RuntimeException(e);
                                }
                            });
            Path g2 = daemon.module.resolve("b").resolve(keys.generationFolder(2));
            waitUntil(() -> Files.isDirectory(g2) && list(g2).size() > 0);
            daemon.kill();
            Exception failure = assertThrows(Exception.class, () -> run.get(2, TimeUnit.MINUTES));
            assertTrue(
                    failure.getMessage().contains("rsync"),
                    "failure says why: " + failure.getMessage());
            assertFalse(
                    Files.exists(g2.resolve(keys.manifestFile(2))), "no manifest, no generation");

            daemon.start();
            GenerationStore again = store(Target.parse(daemon.url("b")), options);
            Catalog catalog = again.catalog(GenerationStoreIT::passphraseOnly, Optional.empty());
            assertEquals(List.of(1L), catalog.generations().stream().map(g -> g.number()).toList());
            assertRestores(again, 1, gen1);

            SyncResult next = sync(again, 7, Set.of());
            assertEquals(2, next.generation());
            assertRestores(again, 2, digests());
            assertTrue(
                    list(g2).stream().noneMatch(p -> p.getFileName().toString().startsWith(".")),
                    "no rsync temp file left in the generation: " + list(g2));
        }
    }

    @Test
    void retentionKeepsTheLastKAndPinnedAndTheirFiles() throws Exception {
        Path root = tmp.resolve("target");
        GenerationStore store = store(Target.parse(root.toString()), fast());
        Map<Long, Map<String, String>> contents = new HashMap<>();
        for (long n = 1; n <= 4; n++) {
            if (n > 1) {
                pool.write(pool.chunkIds.get((int) n - 1), 0, 4096);
            }
            SyncResult r = sync(store, 2, Set.of(1L));
            assertEquals(n, r.generation());
            contents.put(n, digests());
            if (n == 4) {
                assertEquals(List.of(2L), r.pruned());
            }
        }
        Catalog catalog = store.catalog(GenerationStoreIT::passphraseOnly, Optional.empty());
        assertEquals(
                List.of(1L, 3L, 4L), catalog.generations().stream().map(g -> g.number()).toList());
        assertFalse(Files.exists(root.resolve(keys.generationFolder(2))));
        for (long n : List.of(1L, 3L, 4L)) {
            assertTrue(
                    store.verify(catalog.generation(n).orElseThrow(), catalog.listing()).intact());
            assertRestores(store, n, contents.get(n));
        }
    }

    @Test
    void aFormat1GenerationStillRestoresAndTheNextRunWritesSegments() throws Exception {
        // Generation 1 as the previous version wrote it: one image per chunk, manifest format 1.
        Path root = tmp.resolve("target");
        Path g1 = Files.createDirectories(root.resolve(keys.generationFolder(1)));
        List<Manifest.Chunk> chunks = new ArrayList<>();
        for (String id : pool.chunkIds) {
            Files.copy(pool.chunk(id), g1.resolve(keys.chunkFile(id)));
            chunks.add(
                    new Manifest.Chunk(
                            id,
                            keys.chunkFile(id),
                            CHUNK,
                            Digests.sha256(pool.chunk(id)),
                            1,
                            null));
        }
        Manifest v1 =
                new Manifest(
                        Manifest.FORMAT_WHOLE_IMAGES,
                        POOL,
                        1,
                        Instant.now(),
                        "host-a",
                        keys.keyId(),
                        "chunk files at rest",
                        Map.of(),
                        chunks,
                        0);
        Files.write(
                g1.resolve(keys.manifestFile(1)),
                ManifestCodec.seal(v1, pool.slot.toBytes(), keys));
        Map<String, String> gen1 = digests();
        GenerationStore store = store(Target.parse(root.toString()), fast());
        assertRestores(store, 1, gen1);
        assertTrue(store.verify(generation(store, 1), listing(store)).intact());

        pool.write(pool.chunkIds.get(3), 0, 4096);
        SyncResult second = sync(store, 7, Set.of());
        assertEquals(2, second.generation());
        // A format 1 image is no basis for segments: every chunk goes out as segments once.
        assertEquals(4, second.chunksSent());
        assertEquals(Manifest.FORMAT, manifest(store, 2).format());
        assertRestores(store, 2, digests());
        assertRestores(store, 1, gen1);
        SyncResult third = sync(store, 7, Set.of());
        assertEquals(0, third.chunksSent(), "and from then on only what changed");
    }

    Manifest manifest(GenerationStore store, long n) throws Exception {
        return generation(store, n).manifest();
    }

    GenerationStore.Generation generation(GenerationStore store, long n) throws Exception {
        return store.catalog(GenerationStoreIT::passphraseOnly, Optional.empty())
                .generation(n)
                .orElseThrow();
    }

    io.szpool.sync.remote.TargetListing listing(GenerationStore store) throws Exception {
        return store.catalog(GenerationStoreIT::passphraseOnly, Optional.empty()).listing();
    }

    void assertNoLeaks(Path root) throws IOException {
        List<byte[]> needles = new ArrayList<>(pool.secrets());
        needles.add(POOL.getBytes(StandardCharsets.UTF_8));
        needles.add(TestPool.MARKER.getBytes(StandardCharsets.UTF_8));
        for (String id : pool.chunkIds) {
            needles.add(id.getBytes(StandardCharsets.US_ASCII));
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = root.relativize(p).toString();
                assertFalse(name.contains(POOL), name);
                for (String id : pool.chunkIds) {
                    assertFalse(name.contains(id), name);
                }
                if (Files.isRegularFile(p)) {
                    byte[] bytes = Files.readAllBytes(p);
                    for (byte[] needle : needles) {
                        assertFalse(contains(bytes, needle), "target file " + name + " leaks");
                    }
                }
            }
        }
    }

    static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    static void waitUntil(java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in 60 s");
            }
            Thread.sleep(20);
        }
    }
}
