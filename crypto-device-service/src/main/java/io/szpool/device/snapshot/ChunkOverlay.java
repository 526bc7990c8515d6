package io.szpool.device.snapshot;

import io.szpool.crypto.EncryptedChunkFile;
import io.szpool.device.device.WriteGate;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One chunk's copy-on-write overlay of one snapshot: before a unit of the live chunk file changes
 * for the first time after the barrier, its old ciphertext goes to a side file; the snapshot's view
 * is the side file's units where there are any, the live file elsewhere. Works on ciphertext only,
 * so it needs no key and the side file is as opaque as the chunk file.
 */
final class ChunkOverlay implements WriteGate.Preserver, AutoCloseable {
    static final int UNIT = EncryptedChunkFile.UNIT_SIZE;
    // The unit -> side-file map is paged and the pages made on first use, so that starting an
    // overlay costs no more than a small array, whatever the chunk's size, under the barrier.
    private static final int PAGE_UNITS = 4096;
    private static final int SLICE = 1 << 20;

    private final String chunkId;
    private final long sizeBytes;
    private final FileChannel live;
    private final Path sideFile;
    // Entry = 1 + the unit's index in the side file; 0 = not preserved, read the live file.
    private final AtomicReferenceArray<AtomicIntegerArray> pages;
    private volatile FileChannel side;
    private int sideUnits;
    private byte[] copyBuffer;
    private boolean closed;

    private ChunkOverlay(String chunkId, long sizeBytes, FileChannel live, Path sideFile) {
        this.chunkId = chunkId;
        this.sizeBytes = sizeBytes;
        this.live = live;
        this.sideFile = sideFile;
        long units = sizeBytes / UNIT;
        this.pages = new AtomicReferenceArray<>((int) ((units + PAGE_UNITS - 1) / PAGE_UNITS));
    }

    /**
     * Opens the live chunk file for reading; the side file is created on the first write. Does I/O,
     * so it is called before the barrier.
     */
    static ChunkOverlay open(String chunkId, Path liveFile, long sizeBytes, Path sideFile)
            throws IOException {
        // Our own descriptor: the chunk file stays readable even if the chunk is destroyed while
        // the snapshot lives.
        FileChannel live = FileChannel.open(liveFile, StandardOpenOption.READ);
        return new ChunkOverlay(chunkId, sizeBytes, live, sideFile);
    }

    String chunkId() {
        return chunkId;
    }

    long sizeBytes() {
        return sizeBytes;
    }

    Path sideFile() {
        return sideFile;
    }

    /**
     * Copies the not yet preserved units of the range to the side file. Serialized per overlay, and
     * the map entry is set only after the copy is written, so a reader that finds no entry after
     * reading the live unit knows no later write had started on it.
     */
    @Override
    public synchronized void preserve(long offset, long length) throws IOException {
        if (closed) {
            return;
        }
        if (offset < 0 || length < 0 || offset + length > sizeBytes) {
            // The device refuses the same range right after; nothing to keep.
            return;
        }
        long end = (offset + length + UNIT - 1) / UNIT;
        for (long unit = offset / UNIT; unit < end; ) {
            if (slot(unit) != 0) {
                unit++;
                continue;
            }
            long start = unit;
            while (unit < end && slot(unit) == 0 && (unit - start) * UNIT < SLICE) {
                unit++;
            }
            copyToSide(start, (int) (unit - start));
        }
    }

    private void copyToSide(long firstUnit, int units) throws IOException {
        if (copyBuffer == null) {
            copyBuffer = new byte[SLICE];
        }
        ByteBuffer buffer = ByteBuffer.wrap(copyBuffer, 0, units * UNIT);
        readFully(live, buffer, firstUnit * UNIT);
        if (side == null) {
            Files.createDirectories(sideFile.getParent());
            side =
                    FileChannel.open(
                            sideFile,
                            StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.READ,
                            StandardOpenOption.WRITE);
        }
        buffer.flip();
        long at = (long) sideUnits * UNIT;
        while (buffer.hasRemaining()) {
            side.write(buffer, at + buffer.position());
        }
        for (int i = 0; i < units; i++) {
            setSlot(firstUnit + i, sideUnits + i + 1);
        }
        sideUnits += units;
    }

    /**
     * Fills {@code dst} (whole units) with the chunk's ciphertext as of the snapshot from {@code
     * offset}.
     */
    void read(long offset, ByteBuffer dst) throws IOException {
        int start = dst.position();
        int length = dst.remaining();
        readFully(live, dst.duplicate(), offset);
        // Only now look for preserved units: a write that overlapped the read above had set the
        // unit's entry before it began, so it is seen here and the unit is taken from the side.
        for (int done = 0; done < length; done += UNIT) {
            int entry = slot((offset + done) / UNIT);
            if (entry != 0) {
                ByteBuffer unit = dst.duplicate().position(start + done).limit(start + done + UNIT);
                readFully(side, unit, (long) (entry - 1) * UNIT);
            }
        }
        dst.position(start + length);
    }

    /** Writes the whole snapshot view of the chunk to {@code out}, a slice at a time. */
    void copyTo(OutputStream out) throws IOException {
        copyTo(out, 0, sizeBytes);
    }

    /** Writes {@code length} bytes of the snapshot view from {@code offset} (whole units). */
    void copyTo(OutputStream out, long offset, long length) throws IOException {
        byte[] buffer = new byte[SLICE];
        for (long at = offset; at < offset + length; ) {
            int n = (int) Math.min(SLICE, offset + length - at);
            read(at, ByteBuffer.wrap(buffer, 0, n));
            out.write(buffer, 0, n);
            at += n;
        }
    }

    /** Units kept in the side file so far. */
    synchronized int preservedUnits() {
        return sideUnits;
    }

    /** Closes both files and deletes the side file; later writes pass without a copy. */
    @Override
    public synchronized void close() throws IOException {
        closed = true;
        try {
            live.close();
        } finally {
            if (side != null) {
                side.close();
            }
            Files.deleteIfExists(sideFile);
        }
    }

    private int slot(long unit) {
        AtomicIntegerArray page = pages.get((int) (unit / PAGE_UNITS));
        return page == null ? 0 : page.get((int) (unit % PAGE_UNITS));
    }

    private void setSlot(long unit, int entry) {
        int index = (int) (unit / PAGE_UNITS);
        AtomicIntegerArray page = pages.get(index);
        if (page == null) {
            page = new AtomicIntegerArray(PAGE_UNITS);
            pages.set(index, page);
        }
        page.set((int) (unit % PAGE_UNITS), entry);
    }

    private static void readFully(FileChannel channel, ByteBuffer dst, long position)
            throws IOException {
        long at = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                // Past the end of a sparse file's data reads as the hole it is.
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            at += n;
        }
    }
}
