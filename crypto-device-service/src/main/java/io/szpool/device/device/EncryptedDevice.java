package io.szpool.device.device;

import io.szpool.crypto.EncryptedChunkFile;
import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.BlockSizes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

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

    public EncryptedDevice(EncryptedChunkFile chunk) {
        this(chunk, new WriteGate());
    }

    public EncryptedDevice(EncryptedChunkFile chunk, WriteGate gate) {
        this.chunk = chunk;
        this.gate = gate;
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
                    writes.incrementAndGet();
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
                    writes.incrementAndGet();
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
                    writes.incrementAndGet();
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
