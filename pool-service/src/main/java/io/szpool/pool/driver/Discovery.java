package io.szpool.pool.driver;

import java.io.IOException;
import java.util.List;

/**
 * A pool assembled from the labels of chunks this host had no record of: the pool (degraded where
 * columns are missing), the chunks in each vdev's columns (null where missing), and the rebuild
 * that puts the pool's leftover chunks into the missing columns.
 */
public interface Discovery {

    /** A column rebuilt into a leftover chunk: how many bytes the resilver wrote. */
    record Rebuilt(int vdev, int column, String chunkId, long bytes) {}

    LivePool pool();

    /** The pool's id at crypto-device-service: the id every chunk of the pool is filed under. */
    String poolId();

    int width();

    long chunkSizeBytes();

    /** Each vdev's chunks in column order; null for a column with no chunk (yet). */
    List<List<ChunkCandidate>> columns();

    /**
     * Replaces each missing column by a leftover chunk of the pool and resilvers it, column by
     * column; {@link #columns()} then names the new chunks. A column with no leftover stays
     * missing.
     */
    List<Rebuilt> rebuild() throws IOException;
}
