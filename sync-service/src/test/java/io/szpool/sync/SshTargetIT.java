package io.szpool.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.sync.generation.GenerationStore;
import io.szpool.sync.generation.GenerationStore.Catalog;
import io.szpool.sync.generation.GenerationStore.CheckReport;
import io.szpool.sync.generation.GenerationStore.ChunkCheck;
import io.szpool.sync.generation.GenerationStore.SyncResult;
import io.szpool.sync.generation.TargetKeys;
import io.szpool.sync.remote.Rsync;
import io.szpool.sync.remote.RsyncException;
import io.szpool.sync.remote.RsyncOptions;
import io.szpool.sync.remote.Target;
import io.szpool.sync.source.AtRestChunkSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SSH target ({@code user@host:path}, rsync over ssh) against a real sshd on loopback with its
 * own host key, a client key and a pinned known_hosts; and a chunk that a verify found damaged is
 * sent again by the next run instead of being linked forward.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SshTargetIT {
    static final long CHUNK = 4L << 20;
    // The name GenerationStoreIT.assertNoLeaks looks for on the target.
    static final String POOL = GenerationStoreIT.POOL;

    @TempDir Path tmp;
    TestPool pool;
    TargetKeys keys;
    SshServer sshd;

    @BeforeEach
    void start() throws Exception {
        pool = new TestPool(POOL, tmp.resolve("host"), 4, CHUNK);
        keys = TargetKeys.of(pool.master);
        sshd = new SshServer(tmp.resolve("sshd"));
    }

    @AfterEach
    void stop() throws Exception {
        if (sshd != null) {
            sshd.close();
        }
        keys.close();
        pool.close();
    }

    GenerationStore store(Path remote, Path knownHosts) {
        RsyncOptions options =
                GenerationStoreIT.fast()
                        .withCredentials(
                                Optional.empty(),
                                Optional.of(sshd.clientKey),
                                Optional.of(sshd.port),
                                Optional.of(knownHosts));
        return new GenerationStore(
                new Rsync(Target.parse(sshd.address(remote)), options), tmp.resolve("work"));
    }

    SyncResult sync(GenerationStore store, Set<String> suspect) throws Exception {
        try (AtRestChunkSource source = AtRestChunkSource.open(pool.dataDir, POOL)) {
            return store.sync(
                    source,
                    keys,
                    "host-a",
                    7,
                    Set.of(),
                    suspect,
                    new GenerationStore.Listener() {});
        }
    }

    @Test
    void generationsOverSshDeltaVerifyRestoreAndNoLeaks() throws Exception {
        Path remote = tmp.resolve("remote");
        GenerationStore store = store(remote, sshd.knownHosts);
        assertEquals(Target.Kind.SSH, store.target().kind());
        SyncResult first = sync(store, Set.of());
        assertEquals(4, first.chunksSent());

        String changed = pool.chunkIds.get(3);
        pool.write(changed, 512 << 10, 64 * 1024);
        SyncResult second = sync(store, Set.of());
        assertEquals(2, second.generation());
        assertEquals(1, second.chunksSent());
        assertEquals(3 * CHUNK, second.bytesReferenced());
        assertTrue(second.literalBytes() <= 2 * 64 * 1024, "literal " + second.literalBytes());
        assertTrue(second.bytesSent() < CHUNK / 8, "sent " + second.bytesSent());

        Catalog catalog = store.catalog(GenerationStoreIT::passphraseOnly, Optional.empty());
        assertTrue(store.verify(catalog.latest().orElseThrow(), catalog.listing()).intact());
        Path into = tmp.resolve("restored");
        CheckReport restored =
                store.restore(
                        catalog.latest().orElseThrow(), into, new GenerationStore.Listener() {});
        assertTrue(restored.intact(), restored.toString());
        for (String id : pool.chunkIds) {
            assertEquals(-1L, Files.mismatch(pool.chunk(id), into.resolve("chunks").resolve(id)));
        }
        // The key files stay on the client: the target holds neither, nor any plaintext or name.
        new GenerationStoreIT() {
            {
                pool = SshTargetIT.this.pool;
            }
        }.assertNoLeaks(remote);
        byte[] privateKey = Files.readAllBytes(sshd.clientKey);
        try (var files = Files.walk(remote)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                assertFalse(GenerationStoreIT.contains(Files.readAllBytes(p), privateKey), "" + p);
            }
        }
        assertTrue(sshd.log().contains("Accepted publickey"), "logged in with the client key");
    }

    @Test
    void anUnknownHostKeyIsRefusedAndTheErrorHoldsNoKey() throws Exception {
        Path otherHosts = tmp.resolve("other_known_hosts");
        Files.writeString(
                otherHosts,
                "[127.0.0.1]:"
                        + sshd.port
                        + " ssh-ed25519"
                        + " AAAAC3NzaC1lZDI1NTE5AAAAIDx0nNpSRLcGlPjO1zMvbKnoPgthWWJRJ8CyHKe8Tyu9\n");
        GenerationStore store = store(tmp.resolve("remote"), otherHosts);
        Exception e = assertThrows(Exception.class, () -> sync(store, Set.of()));
        Throwable cause = e;
        while (!(cause instanceof RsyncException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertTrue(cause instanceof RsyncException, e.toString());
        String message = e.getMessage() + " " + cause.getMessage();
        String privateKey = Files.readString(sshd.clientKey);
        for (String line : privateKey.split("\n")) {
            if (line.length() > 20 && !line.startsWith("-----")) {
                assertFalse(message.contains(line), "the error shows key material");
            }
        }
        assertFalse(sshd.log().contains("Accepted publickey"), "no login to an unpinned host");
    }

    /** Damage to a linked image shows in every generation naming it; the next run must re-send. */
    @Test
    void aChunkAVerifyFoundDamagedIsSentAgain() throws Exception {
        Path remote = tmp.resolve("remote");
        GenerationStore store = store(remote, sshd.knownHosts);
        sync(store, Set.of());
        String victim = pool.chunkIds.get(1);
        Path image = remote.resolve(keys.generationFolder(1)).resolve(keys.segmentFile(victim, 0));
        byte[] bytes = Files.readAllBytes(image);
        bytes[100_000] ^= 0x77;
        Files.write(image, bytes);

        Catalog catalog = store.catalog(GenerationStoreIT::passphraseOnly, Optional.empty());
        CheckReport report = store.verify(catalog.latest().orElseThrow(), catalog.listing());
        List<String> damaged =
                report.with(ChunkCheck.DAMAGED).stream().map(ChunkCheck::chunkId).toList();
        assertEquals(List.of(victim), damaged);

        SyncResult next = sync(store, Set.copyOf(damaged));
        assertEquals(1, next.chunksSent(), "the damaged chunk, though the pool did not change");
        assertEquals(3 * CHUNK, next.bytesReferenced());
        catalog = store.catalog(GenerationStoreIT::passphraseOnly, Optional.empty());
        CheckReport after = store.verify(catalog.latest().orElseThrow(), catalog.listing());
        assertTrue(after.intact(), after.toString());
    }
}
