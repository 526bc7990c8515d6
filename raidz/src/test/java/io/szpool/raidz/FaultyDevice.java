package io.szpool.raidz;

import io.szpool.nbd.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;

/**
 * A test device that wraps another and, when told, fails reads, returns garbage or fails writes.
 */
final class FaultyDevice implements BlockDevice {
    enum Fault {
        NONE,
        THROW_ON_READ,
        GARBAGE_ON_READ,
        THROW_ON_WRITE,
        THROW_ALWAYS
    }

    /** Runs before every write reaches the inner device; may hold it or fail it. */
    interface WriteHook {
        void before(long offset) throws IOException;
    }

    private final BlockDevice inner;
    private final Random random = new Random(99);
    volatile Fault fault = Fault.NONE;
    volatile WriteHook beforeWrite = offset -> {};

    FaultyDevice(BlockDevice inner) {
        this.inner = inner;
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        switch (fault) {
            case THROW_ON_READ, THROW_ALWAYS -> throw new IOException("injected read error");
            case GARBAGE_ON_READ -> {
                byte[] junk = new byte[dst.remaining()];
                synchronized (random) {
                    random.nextBytes(junk);
                }
                dst.put(junk);
            }
            default -> inner.read(offset, dst);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        if (fault == Fault.THROW_ON_WRITE || fault == Fault.THROW_ALWAYS) {
            throw new IOException("injected write error");
        }
        beforeWrite.before(offset);
        inner.write(offset, src, fua);
    }

    @Override
    public void flush() throws IOException {
        if (fault == Fault.THROW_ALWAYS) {
            throw new IOException("injected flush error");
        }
        inner.flush();
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
            throws IOException {
        inner.writeZeroes(offset, length, mayPunchHole, fua);
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }

    @Override
    public String toString() {
        return "faulty " + inner;
    }
}
