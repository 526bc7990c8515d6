package io.szpool.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A fixed-size range of bytes that can be read, written, flushed, trimmed and zeroed: what an NBD
 * export serves and what {@link NbdClient} offers, so code above cannot tell local from remote.
 *
 * <p>Implementations must be safe for concurrent calls from many threads (the server runs requests
 * of many connections in parallel). A call transfers exactly {@code buffer.remaining()} bytes
 * between the buffer's position and limit and leaves the position at the limit; the device must not
 * keep a reference to the buffer after the call returns, so callers may reuse pooled (direct)
 * buffers. Once a write has returned, every later read sees it, from any thread or connection;
 * {@link #flush()} makes every write that has returned so far durable, whoever issued it.
 */
public interface BlockDevice extends AutoCloseable {

    /** Size in bytes; fixed for the device's lifetime. */
    long size();

    default BlockSizes blockSizes() {
        return BlockSizes.DEFAULT;
    }

    boolean readOnly();

    /** Whether {@link #trim} may do something useful; a server announces TRIM only then. */
    default boolean canTrim() {
        return false;
    }

    /**
     * Whether the guarantees above hold across independent callers, so that the server may announce
     * {@code NBD_FLAG_CAN_MULTI_CONN}. A device with a per-caller cache must return false.
     */
    default boolean sharedCache() {
        return true;
    }

    /** Reads {@code dst.remaining()} bytes starting at {@code offset}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Writes {@code src.remaining()} bytes at {@code offset}; with {@code fua} the data is durable
     * when the call returns.
     */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    /** Makes every write that has returned so far durable. */
    void flush() throws IOException;

    /**
     * Hints that a range is no longer needed; afterwards its content is unspecified until it is
     * written again. The default does nothing, which the protocol allows.
     */
    default void trim(long offset, long length, boolean fua) throws IOException {}

    /**
     * Makes a range read back as zeroes. With {@code mayPunchHole} false the range must stay
     * allocated (the client asked for {@code NBD_CMD_FLAG_NO_HOLE}).
     */
    void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
            throws IOException;

    @Override
    void close() throws IOException;
}
