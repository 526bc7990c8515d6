package io.szpool.sync;

import io.szpool.crypto.ChunkKeys;
import io.szpool.crypto.EncryptedChunkFile;
import io.szpool.crypto.KeySlot;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.XtsKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A pool's chunk files at rest as crypto-device-service lays them out (records, chunks, key slot),
 * written through the real XTS engine, with a plaintext marker and the pool name in every chunk so
 * a leak to the target would show.
 */
final class TestPool implements AutoCloseable {
    static final char[] PASSPHRASE = "correct horse battery staple sync".toCharArray();
    static final String MARKER = "PLAINTEXT-MARKER-szpool-sync-test";

    final String poolId;
    final Path dataDir;
    final MasterKey master;
    final KeySlot slot;
    final List<String> chunkIds = new ArrayList<>();
    final long chunkSize;
    private final Random random = new Random(42);

    TestPool(String poolId, Path dataDir, int chunks, long chunkSize) throws IOException {
        this.poolId = poolId;
        this.dataDir = dataDir;
        this.chunkSize = chunkSize;
        this.master = MasterKey.generate();
        this.slot = KeySlot.seal(master, PASSPHRASE);
        Files.createDirectories(dataDir.resolve("keys"));
        Files.createDirectories(dataDir.resolve("chunks"));
        Files.createDirectories(dataDir.resolve("records"));
        slot.write(dataDir.resolve("keys").resolve(poolId + ".slot"));
        for (int i = 0; i < chunks; i++) {
            // Fresh ids every run: test folders outlive a run.
            String chunkId = java.util.UUID.randomUUID().toString().replace("-", "");
            chunkIds.add(chunkId);
            EncryptedChunkFile.createSparse(chunk(chunkId), chunkSize);
            Files.writeString(
                    dataDir.resolve("records").resolve(chunkId + ".json"),
                    "{\"chunkId\":\""
                            + chunkId
                            + "\",\"poolId\":\""
                            + poolId
                            + "\",\"sizeBytes\":"
                            + chunkSize
                            + ",\"sparse\":true,\"keyId\":\""
                            + master.keyId()
                            + "\",\"requestId\":\"r\",\"attached\":false,\"createdAt\":\"2026-11-26T00:00:00Z\"}");
            // Half of each chunk written, the rest a hole; every 64 KiB starts with the marker.
            write(chunkId, 0, (int) (chunkSize / 2));
        }
    }

    Path chunk(String chunkId) {
        return dataDir.resolve("chunks").resolve(chunkId);
    }

    /** Writes {@code length} bytes of fresh plaintext at {@code offset} of a chunk. */
    void write(String chunkId, long offset, int length) throws IOException {
        byte[] plain = new byte[length];
        random.nextBytes(plain);
        byte[] marker = (MARKER + " pool " + poolId).getBytes(StandardCharsets.US_ASCII);
        for (int at = 0; at + marker.length < length; at += 65536) {
            System.arraycopy(marker, 0, plain, at, marker.length);
        }
        try (XtsKey key = ChunkKeys.derive(master, chunkId);
                EncryptedChunkFile file = EncryptedChunkFile.open(chunk(chunkId), key)) {
            file.write(offset, ByteBuffer.wrap(plain));
            file.flush();
        }
    }

    /** Key material that must never reach a target: every chunk's XTS key. */
    List<byte[]> secrets() {
        List<byte[]> out = new ArrayList<>();
        for (String id : chunkIds) {
            try (XtsKey key = ChunkKeys.derive(master, id)) {
                byte[] k = key.bytes();
                out.add(java.util.Arrays.copyOf(k, 32));
                out.add(java.util.Arrays.copyOfRange(k, 32, 64));
            }
        }
        out.add(new String(PASSPHRASE).getBytes(StandardCharsets.UTF_8));
        return out;
    }

    @Override
    public void close() {
        master.close();
    }
}
