package io.szpool.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;

/**
 * A block device backed by a regular file (or a block device node) through positional {@link
 * FileChannel} I/O, which is thread-safe and lets concurrent requests run in parallel.
 *
 * <p>The JDK cannot punch holes, so {@link #trim} does nothing (the protocol allows that: trimmed
 * content is unspecified until written again). {@link #writeZeroes} keeps a sparse file sparse by
 * writing only those pieces that do not already read as zeroes.
 */
public final class FileBlockDevice implements BlockDevice {
    private static final int ZERO_PIECE = 1 << 20;
    private static final ByteBuffer ZEROES =
            ByteBuffer.allocateDirect(ZERO_PIECE).asReadOnlyBuffer();
    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(ZERO_PIECE));

    private final Path path;
    private final boolean readOnly;
    private final long size;
    private volatile FileChannel channel;
    private volatile boolean closed;

    private FileBlockDevice(Path path, boolean readOnly) throws IOException {
        this.path = path;
        this.readOnly = readOnly;
        this.channel = open();
        this.size = channel.size();
    }

    /** Opens an existing file; its current length is the device size. */
    public static FileBlockDevice open(Path path, boolean readOnly) throws IOException {
        return new FileBlockDevice(path, readOnly);
    }

    /** Creates (or truncates to) a sparse file of the given size and opens it read-write. */
    public static FileBlockDevice create(Path path, long size) throws IOException {
        try (FileChannel ch =
                FileChannel.open(
                        path,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
            if (size > 0) {
                // Writing the last byte extends the file without allocating the blocks before it.
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return new FileBlockDevice(path, false);
    }

    private FileChannel open() throws IOException {
        Set<StandardOpenOption> options =
                readOnly
                        ? EnumSet.of(StandardOpenOption.READ)
                        : EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE);
        return FileChannel.open(path, options);
    }

    /**
     * A FileChannel closes itself when a thread blocked in it is interrupted. One interrupted
     * caller must not break the device for every other caller, so the device reopens the file;
     * callers that were not interrupted retry on the new channel.
     */
    private FileChannel recover(FileChannel broken, ClosedChannelException cause)
            throws IOException {
        synchronized (this) {
            if (closed) {
                throw cause;
            }
            if (channel == broken) {
                channel = open();
            }
        }
        if (Thread.currentThread().isInterrupted()) {
            throw cause;
        }
        return channel;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public boolean canTrim() {
        return !readOnly;
    }

    public Path path() {
        return path;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        FileChannel ch = channel;
        long position = offset;
        while (dst.hasRemaining()) {
            int n;
            try {
                n = ch.read(dst, position);
            } catch (ClosedChannelException e) {
                ch = recover(ch, e);
                continue;
            }
            if (n < 0) {
                // The file was shortened behind our back: what is gone reads as zeroes.
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            position += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        FileChannel ch = channel;
        long position = offset;
        while (src.hasRemaining()) {
            try {
                position += ch.write(src, position);
            } catch (ClosedChannelException e) {
                ch = recover(ch, e);
            }
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public void flush() throws IOException {
        FileChannel ch = channel;
        while (true) {
            try {
                ch.force(false);
                return;
            } catch (ClosedChannelException e) {
                ch = recover(ch, e);
            }
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
            throws IOException {
        long end = offset + length;
        for (long position = offset; position < end; ) {
            int piece = (int) Math.min(ZERO_PIECE, end - position);
            if (!mayPunchHole || !readsAsZeroes(position, piece)) {
                write(position, ZEROES.duplicate().limit(piece), false);
            }
            position += piece;
        }
        if (fua) {
            flush();
        }
    }

    private boolean readsAsZeroes(long position, int length) throws IOException {
        ByteBuffer scratch = SCRATCH.get().clear().limit(length);
        read(position, scratch);
        scratch.flip();
        return scratch.mismatch(ZEROES.duplicate().limit(length)) < 0;
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        channel.close();
    }

    @Override
    public String toString() {
        return "file " + path;
    }
}
