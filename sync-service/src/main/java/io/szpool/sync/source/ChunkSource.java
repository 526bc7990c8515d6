package io.szpool.sync.source;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A consistent set of one pool's chunk files, captured at one instant: what a sync run copies. The
 * files must not change while the source is open; {@link #close()} releases the capture (for a
 * snapshot source: drops the snapshot).
 *
 * <p>Implementations: {@link AtRestChunkSource} (chunk files of a pool that is exported or stopped,
 * checked for changes); the copy-on-write snapshot coordinated with pool-service (flush, freeze,
 * snapshot, thaw) plugs in here later, see sync-service/DESIGN.md.
 */
public interface ChunkSource extends AutoCloseable {

    /** One chunk file of the capture. */
    record SourceChunk(String chunkId, Path file, long sizeBytes) {}

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
