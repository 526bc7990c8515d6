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
     * One chunk file of the capture.
     *
     * @param sha256 the file's digest when the source already knows it (computed while it copied
     *     the chunk, or carried over from the previous generation for an unchanged chunk); null
     *     makes the run read the file to digest it
     * @param version the source's change stamp of the chunk (a snapshot's epoch and write count),
     *     kept in the manifest so the next capture can tell an unchanged chunk without reading it;
     *     null when the source has none
     */
    record SourceChunk(String chunkId, Path file, long sizeBytes, String sha256, String version) {
        public SourceChunk(String chunkId, Path file, long sizeBytes) {
            this(chunkId, file, sizeBytes, null, null);
        }
    }

    /**
     * A chunk as the previous generation holds it, when its image is on the target whole (present,
     * right size, not found damaged by a verify): a source may then skip copying it if its version
     * is still the same.
     */
    record Previous(String sha256, long sizeBytes, String version) {}

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
