package io.szpool.sync.source;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A consistent set of one pool's chunk files, captured at one instant: what a sync run copies. The
 * files must not change while the source is open; {@link #close()} releases the capture (for a
 * snapshot source: drops the snapshot).
 *
 * <p>Implementations: {@link AtRestChunkSource} (chunk files of a pool that is exported or stopped,
 * checked for changes) and {@link LiveChunkSource} (a copy-on-write snapshot of an imported pool's
 * devices, taken while pool-service holds its writes), see sync-service/DESIGN.md.
 */
public interface ChunkSource extends AutoCloseable {

    /**
     * One chunk of the capture, staged as segments (manifest format 2): each segment is a local
     * file of the segment's length, either the bytes the source read or, for a segment the source
     * knows is unchanged since the previous generation and did not read, a sparse placeholder of
     * the right length that the run hard-links to the previous generation's file.
     *
     * @param sha256 the digest of the chunk ({@code Digests.ofSegments} of its segments')
     * @param version the source's change stamp of the chunk (a snapshot's epoch and write count),
     *     kept in the manifest so the next capture can tell what changed without reading it; null
     *     when the source has none
     */
    record SourceChunk(
            String chunkId,
            long sizeBytes,
            String sha256,
            String version,
            List<SourceSegment> segments) {}

    /**
     * One segment of a captured chunk.
     *
     * @param file a local file of exactly the segment's length
     * @param sha256 its digest (read, or carried over from the previous generation)
     * @param read whether the source read these bytes; false = a placeholder for an unchanged
     *     segment
     */
    record SourceSegment(int index, Path file, long sizeBytes, String sha256, boolean read) {}

    /**
     * A chunk as the previous generation holds it on the target.
     *
     * @param segments per segment of {@link io.szpool.sync.generation.Manifest#SEGMENT_BYTES}, its
     *     digest when its file is on the target whole (present, right size, chunk not found damaged
     *     by a verify), else null: only those a source may leave unread
     */
    record Previous(String sha256, long sizeBytes, String version, List<String> segments) {}

    /**
     * Takes the capture, once per run, before {@link #chunks()}. A source that captures up front
     * (chunk files at rest) does nothing here.
     *
     * @param previous by chunk id, what the previous generation holds intact on the target
     */
    default void capture(Map<String, Previous> previous) throws IOException, InterruptedException {}

    /** How long the pool's writes were held for the capture, when the source held them at all. */
    default OptionalLong barrierMillis() {
        return OptionalLong.empty();
    }

    String poolId();

    /** Every chunk of the pool, in a stable order. */
    List<SourceChunk> chunks();

    /** The pool's key slot (152 bytes): it travels, wrapped, in every manifest. */
    byte[] keySlot();

    /** How the pool is built from its chunks (vdevs, widths); recorded in the manifest as is. */
    Map<String, String> layout();

    /** A short description of where the capture came from, for the manifest and the reports. */
    String description();

    /**
     * Throws if the capture is no longer what it was when opened (a file changed under it): the run
     * must not write a manifest for it.
     */
    void checkUnchanged() throws IOException;

    @Override
    void close() throws IOException;
}
