package io.szpool.sync.generation;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one generation holds, as its encrypted manifest on the target says: enough to restore the
 * pool with nothing but the target and the passphrase.
 *
 * @param format manifest format, 1
 * @param layout how the pool is built from its chunks, as the capture source described it (vdevs,
 *     widths); opaque to sync-service
 * @param chunks every chunk of the generation with its file on the target and its SHA-256
 */
public record Manifest(
        int format,
        String poolId,
        long generation,
        Instant createdAt,
        String hostId,
        String keyId,
        String source,
        Map<String, String> layout,
        List<Chunk> chunks) {

    public static final int FORMAT = 1;

    /**
     * One chunk image.
     *
     * @param file its file name inside the generation folder
     * @param sha256 digest of the whole file, lower-case hex
     * @param sentIn the generation whose run sent these bytes (this one, or an earlier one it
     *     links)
     * @param version the capture source's change stamp of the chunk (null when it has none): the
     *     next run's source compares it to tell an unchanged chunk without reading it
     */
    public record Chunk(
            String chunkId,
            String file,
            long sizeBytes,
            String sha256,
            long sentIn,
            String version) {}

    public Manifest {
        layout = Map.copyOf(layout);
        chunks = List.copyOf(chunks);
    }

    public Optional<Chunk> chunk(String chunkId) {
        return chunks.stream().filter(c -> c.chunkId().equals(chunkId)).findFirst();
    }

    public long totalBytes() {
        return chunks.stream().mapToLong(Chunk::sizeBytes).sum();
    }
}
