package io.szpool.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A sparse in-memory block device: pages are allocated on first write and dropped again by trim and
 * write-zeroes, so an empty device of any size costs almost nothing. For tests and scratch space.
 */
public final class MemoryBlockDevice implements BlockDevice {
    private static final int PAGE_SHIFT = 16;
    private static final int PAGE = 1 << PAGE_SHIFT;

    private final long size;
    private final AtomicReferenceArray<ByteBuffer> pages;

    public MemoryBlockDevice(long size) {
        if (size < 0 || (size >> PAGE_SHIFT) >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("size out of range: " + size);
        }
        this.size = size;
        this.pages = new AtomicReferenceArray<>((int) ((size + PAGE - 1) >> PAGE_SHIFT));
    }

    @Override
    public long size() {
        return size;
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
    public void read(long offset, ByteBuffer dst) {
        checkRange(offset, dst.remaining());
        long position = offset;
        while (dst.hasRemaining()) {
            int inPage = (int) (position & (PAGE - 1));
            int n = Math.min(PAGE - inPage, dst.remaining());
            ByteBuffer page = pages.get((int) (position >> PAGE_SHIFT));
            if (page == null) {
                for (int i = 0; i < n; i++) {
                    dst.put((byte) 0);
                }
            } else {
                dst.put(page.duplicate().position(inPage).limit(inPage + n));
            }
            position += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) {
        checkRange(offset, src.remaining());
        long position = offset;
        while (src.hasRemaining()) {
            int inPage = (int) (position & (PAGE - 1));
            int n = Math.min(PAGE - inPage, src.remaining());
            ByteBuffer page = page((int) (position >> PAGE_SHIFT));
            int limit = src.limit();
            src.limit(src.position() + n);
            page.duplicate().position(inPage).put(src);
            src.limit(limit);
            position += n;
        }
    }

    private ByteBuffer page(int index) {
        ByteBuffer page = pages.get(index);
        if (page == null) {
            pages.compareAndSet(index, null, ByteBuffer.allocateDirect(PAGE));
            page = pages.get(index);
        }
        return page;
    }

    @Override
    public void flush() {}

    @Override
    public void trim(long offset, long length, boolean fua) {
        writeZeroes(offset, length, true, fua);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua) {
        checkRange(offset, length);
        long position = offset;
        long end = offset + length;
        while (position < end) {
            int inPage = (int) (position & (PAGE - 1));
            int n = (int) Math.min(PAGE - inPage, end - position);
            int index = (int) (position >> PAGE_SHIFT);
            if (n == PAGE) {
                pages.set(index, null);
            } else {
                ByteBuffer page = pages.get(index);
                if (page != null) {
                    ByteBuffer view = page.duplicate().position(inPage);
                    for (int i = 0; i < n; i++) {
                        view.put((byte) 0);
                    }
                }
            }
            position += n;
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException("range beyond device end");
        }
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "memory " + size;
    }
}
