package io.szpool.sync.generation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one generation holds, as its encrypted manifest on the target says: enough to restore the
 * pool with nothing but the target and the passphrase.
 *
 * @param format manifest format: 1 = one image file per chunk, 2 = each chunk stored as segments of
 *     {@code segmentBytes} (sync-service/DESIGN.md, "Layout on the target"); both are read
 * @param layout how the pool is built from its chunks, as the capture source described it (vdevs,
 *     widths); opaque to sync-service
 * @param chunks every chunk of the generation with its file(s) on the target and its SHA-256
 * @param segmentBytes format 2: the size of every segment but a chunk's last; 0 in format 1
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
        List<Chunk> chunks,
        long segmentBytes) {

    /** The format this version writes. */
    public static final int FORMAT = 2;

    /** Format 1: one image per chunk, written before segments; still restored. */
    public static final int FORMAT_WHOLE_IMAGES = 1;

    /**
     * Segments of 4 MiB: a 1% random rewrite of a pool touches a few segments per chunk, and a 1
     * GiB chunk is 256 files per generation, which rsync links in well under a second.
     */
    public static final long SEGMENT_BYTES = 4L << 20;

    /**
     * One chunk.
     *
     * @param file format 1: its image's file name inside the generation folder; null in format 2
     * @param sha256 format 1: digest of the whole image; format 2: {@link Digests#ofSegments(List)}
     *     of its segments' digests, so it is known without reading unchanged segments
     * @param sentIn the generation whose run sent these bytes (this one, or an earlier one it
     *     links); format 2: the newest of its segments'
     * @param version the capture source's change stamp of the chunk (null when it has none): the
     *     next run's source compares it to tell what changed without reading it
     * @param segments format 2: the chunk's segments in order; null in format 1
     */
    public record Chunk(
            String chunkId,
            String file,
            long sizeBytes,
            String sha256,
            long sentIn,
            String version,
            List<Segment> segments) {

        /** A format 1 entry: one image. */
        public Chunk(
                String chunkId,
                String file,
                long sizeBytes,
                String sha256,
                long sentIn,
                String version) {
            this(chunkId, file, sizeBytes, sha256, sentIn, version, null);
        }

        public boolean segmented() {
            return segments != null;
        }
    }

    /**
     * One segment of a chunk (format 2): bytes {@code [k * segmentBytes, ...)} of the image.
     *
     * @param file its file name inside the generation folder
     * @param sha256 digest of the segment file
     * @param sentIn the generation whose run sent these bytes
     */
    public record Segment(String file, String sha256, long sentIn) {}

    /**
     * One file on the target that holds part of a chunk: the whole image in format 1, a segment in
     * format 2.
     *
     * @param index the segment's number in its chunk (0 for a format 1 image)
     * @param offset where its bytes go in the chunk image
     */
    public record Piece(
            String chunkId,
            int index,
            String file,
            long offset,
            long sizeBytes,
            String sha256,
            long sentIn) {}

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

    /** The files on the target that make up {@code chunk}, in order. */
    public List<Piece> pieces(Chunk chunk) {
        if (!chunk.segmented()) {
            return List.of(
                    new Piece(
                            chunk.chunkId(),
                            0,
                            chunk.file(),
                            0,
                            chunk.sizeBytes(),
                            chunk.sha256(),
                            chunk.sentIn()));
        }
        List<Piece> out = new ArrayList<>();
        for (int k = 0; k < chunk.segments().size(); k++) {
            Segment s = chunk.segments().get(k);
            long offset = k * segmentBytes;
            out.add(
                    new Piece(
                            chunk.chunkId(),
                            k,
                            s.file(),
                            offset,
                            Math.min(segmentBytes, chunk.sizeBytes() - offset),
                            s.sha256(),
                            s.sentIn()));
        }
        return out;
    }

    /** How many segments a chunk of {@code sizeBytes} has. */
    public static int segmentCount(long sizeBytes, long segmentBytes) {
        return (int) ((sizeBytes + segmentBytes - 1) / segmentBytes);
    }
}
