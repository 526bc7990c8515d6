package io.szpool.device.device;

import io.szpool.crypto.EncryptedChunkFile;
import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.BlockSizes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A chunk's decrypted view as a block device: what the NBD export of an attached chunk serves.
 * Requests are whole 4096-byte encryption units; NBD clients learn that from the announced block
 * sizes and the server refuses anything else.
 */
public final class EncryptedDevice implements BlockDevice {
    static final BlockSizes UNITS =
            new BlockSizes(EncryptedChunkFile.UNIT_SIZE, EncryptedChunkFile.UNIT_SIZE, 32 << 20);
    private static final ByteBuffer ZERO_UNITS =
            ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private final EncryptedChunkFile chunk;
    private final WriteGate gate;
    // Random per open, so a consumer that compares (epoch, writes) with what it saw last time
    // cannot mistake a re-opened device whose counter started over for an unchanged one.
    private final UUID epoch = UUID.randomUUID();
    private final AtomicLong writes = new AtomicLong();

    /**
     * The change tracker's granularity: a backup asks which regions of this size were written since
     * a snapshot, and reads only those. 1 MiB keeps the tracker at 8 KiB per GiB of chunk.
     */
    public static final int REGION_BYTES = 1 << 20;

    // Per region, the write count of the last change that touched it (0: none since this open).
    // Set inside the gate with the change's own count, so a snapshot that reads writes() under the
    // barrier sees every change up to that count marked, and every later one marked above it.
    private final AtomicLongArray regionWrites;

    public EncryptedDevice(EncryptedChunkFile chunk) {
        this(chunk, new WriteGate());
    }

    public EncryptedDevice(EncryptedChunkFile chunk, WriteGate gate) {
        this.chunk = chunk;
        this.gate = gate;
        this.regionWrites =
                new AtomicLongArray((int) ((chunk.size() + REGION_BYTES - 1) / REGION_BYTES));
    }

    /** Random for each open of the chunk: a restart or a re-attach gives a new one. */
    public UUID epoch() {
        return epoch;
    }

    /**
     * Write, trim and zeroing requests since this open. Read it while the gate is held to get the
     * count that matches the chunk's content.
     */
    public long writes() {
        return writes.get();
    }

    public WriteGate gate() {
        return gate;
    }

    /**
     * The regions (of {@link #REGION_BYTES}) changed by a write, trim or zeroing counted after
     * {@code since}: every region a change up to the current count touched after the snapshot that
     * read {@code since}, and possibly regions changed later (a region keeps only its last change's
     * count): never too few, which is what a backup needs.
     */
    public BitSet regionsWrittenAfter(long since) {
        BitSet out = new BitSet(regionWrites.length());
        for (int i = 0; i < regionWrites.length(); i++) {
            if (regionWrites.get(i) > since) {
                out.set(i);
            }
        }
        return out;
    }

    private void mark(long offset, long length, long count) {
        if (length <= 0 || offset < 0) {
            return;
        }
        long last = Math.min(regionWrites.length() - 1L, (offset + length - 1) / REGION_BYTES);
        for (long r = offset / REGION_BYTES; r <= last; r++) {
            regionWrites.accumulateAndGet((int) r, count, Math::max);
        }
    }

    @Override
    public long size() {
        return chunk.size();
    }

    @Override
    public BlockSizes blockSizes() {
        return UNITS;
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public boolean canTrim() {
        return true;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        chunk.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        gate.change(
                offset,
                src.remaining(),
                () -> {
                    mark(offset, src.remaining(), writes.incrementAndGet());
                    chunk.write(offset, src);
                });
        if (fua) {
            chunk.flush();
        }
    }

    @Override
    public void flush() throws IOException {
        chunk.flush();
    }

    /** Punches a hole: the space goes back to the file system and the range reads as zeros here. */
    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        gate.change(
                offset,
                length,
                () -> {
                    mark(offset, length, writes.incrementAndGet());
                    chunk.trim(offset, length);
                });
        if (fua) {
            chunk.flush();
        }
    }

    /**
     * Writes encrypted zeros, never a hole, whatever the client allows: a hole reads as zeros only
     * through szpool, while dm-crypt, opening the same chunk file, would read it as noise.
     */
    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
            throws IOException {
        gate.change(
                offset,
                length,
                () -> {
                    mark(offset, length, writes.incrementAndGet());
                    for (long done = 0; done < length; ) {
                        int n = (int) Math.min(ZERO_UNITS.capacity(), length - done);
                        chunk.write(offset + done, ZERO_UNITS.duplicate().limit(n));
                        done += n;
                    }
                });
        if (fua) {
            chunk.flush();
        }
    }

    @Override
    public void close() throws IOException {
        chunk.close();
    }
}
