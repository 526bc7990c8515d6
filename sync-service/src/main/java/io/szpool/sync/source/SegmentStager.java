package io.szpool.sync.source;

import io.szpool.sync.generation.Digests;
import io.szpool.sync.generation.Manifest;
import io.szpool.sync.source.ChunkSource.Previous;
import io.szpool.sync.source.ChunkSource.SourceChunk;
import io.szpool.sync.source.ChunkSource.SourceSegment;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * Stages a captured chunk as segment files for a sync run. A segment that the source says cannot
 * have changed since the previous generation, and whose file the previous generation holds whole,
 * is not read: it becomes a placeholder of its length (one shared sparse file per length) with the
 * previous digest, which the run hard-links on the target. Every other segment is read once,
 * digested, and written to staging sparse (4 KiB units of zeros are skipped) unless its digest
 * equals the previous one, in which case it is linked too.
 */
final class SegmentStager {
    /** Holes are skipped per encryption unit. */
    static final int UNIT = 4096;

    private static final byte[] ZEROS = new byte[UNIT];

    /** Reads {@code length} bytes of a chunk from {@code offset}. */
    @FunctionalInterface
    interface RangeReader {
        InputStream open(long offset, long length) throws IOException, InterruptedException;
    }

    private final Path dir;
    private final long segmentBytes;
    private final byte[] buffer;
    private final Map<Long, Path> placeholders = new HashMap<>();
    private long bytesRead;
    private int segmentsRead;
    private int segments;

    SegmentStager(Path dir) {
        this(dir, Manifest.SEGMENT_BYTES);
    }

    SegmentStager(Path dir, long segmentBytes) {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.buffer = new byte[(int) segmentBytes];
    }

    /**
     * Stages one chunk.
     *
     * @param previous the previous generation's entry, or null (then every segment is read)
     * @param mayHaveChanged which segments the source cannot vouch for; the others are not read
     *     when the previous generation has them whole
     */
    SourceChunk stage(
            String chunkId,
            long sizeBytes,
            String version,
            Previous previous,
            IntPredicate mayHaveChanged,
            RangeReader reader)
            throws IOException, InterruptedException {
        List<String> before =
                previous != null && previous.sizeBytes() == sizeBytes && previous.segments() != null
                        ? previous.segments()
                        : List.of();
        Path chunkDir = Files.createDirectories(dir.resolve(chunkId));
        int count = Manifest.segmentCount(sizeBytes, segmentBytes);
        List<SourceSegment> out = new ArrayList<>(count);
        List<String> digests = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            long offset = k * segmentBytes;
            int length = (int) Math.min(segmentBytes, sizeBytes - offset);
            String was = k < before.size() ? before.get(k) : null;
            segments++;
            if (was != null && !mayHaveChanged.test(k)) {
                out.add(new SourceSegment(k, placeholder(length), length, was, false));
                digests.add(was);
                continue;
            }
            try (InputStream in = reader.open(offset, length)) {
                int n = in.readNBytes(buffer, 0, length);
                // Short is an error; what follows is not read (an at-rest reader is the file).
                if (n != length) {
                    throw new IOException(
                            "chunk "
                                    + chunkId
                                    + " segment "
                                    + k
                                    + ": read "
                                    + n
                                    + " bytes, expected "
                                    + length);
                }
            }
            bytesRead += length;
            segmentsRead++;
            MessageDigest sha = Digests.sha256();
            sha.update(buffer, 0, length);
            String digest = HexFormat.of().formatHex(sha.digest());
            digests.add(digest);
            if (digest.equals(was)) {
                // Written, but back to the same bytes: link the previous file all the same.
                out.add(new SourceSegment(k, placeholder(length), length, digest, true));
            } else {
                Path file = chunkDir.resolve(Integer.toString(k));
                writeSparse(file, length);
                out.add(new SourceSegment(k, file, length, digest, true));
            }
        }
        return new SourceChunk(
                chunkId, sizeBytes, Digests.ofSegments(digests), version, List.copyOf(out));
    }

    /** Bytes read from the source so far. */
    long bytesRead() {
        return bytesRead;
    }

    int segmentsRead() {
        return segmentsRead;
    }

    int segments() {
        return segments;
    }

    private Path placeholder(long length) throws IOException {
        Path p = placeholders.get(length);
        if (p == null) {
            p = Files.createDirectories(dir.resolve("placeholders")).resolve(Long.toString(length));
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(length);
            }
            placeholders.put(length, p);
        }
        return p;
    }

    private boolean zero(int at, int length) {
        int len = Math.min(UNIT, length - at);
        return Arrays.mismatch(buffer, at, at + len, ZEROS, 0, len) == -1;
    }

    private void writeSparse(Path file, int length) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw");
                FileChannel out = raf.getChannel()) {
            // Runs of units with data go out in one write each; units of zeros stay holes.
            int at = 0;
            while (at < length) {
                if (zero(at, length)) {
                    at += UNIT;
                    continue;
                }
                int end = at;
                while (end < length && !zero(end, length)) {
                    end += UNIT;
                }
                end = Math.min(end, length);
                ByteBuffer run = ByteBuffer.wrap(buffer, at, end - at);
                long to = at;
                while (run.hasRemaining()) {
                    to += out.write(run, to);
                }
                at = end;
            }
            // A trailing hole: the length says where the segment ends.
            raf.setLength(length);
        }
    }
}
