package io.szpool.raidz;

/**
 * Where everything of a vdev sits on each of its devices, and how columns rotate over devices.
 *
 * <pre>
 * [0, 16K)              label (copy A; copy B sits in the last 16 KiB of the device)
 * [16K, 80K)            uberblock ring: 16 slots of 4 KiB, slot = txg % 16
 * [80K, mapEnd)         map pages, two 4 KiB slots per page (the newer committed one is current)
 * [dataStart, ...)      physical stripes: column block k of stripe s at dataStart + s * columnSize
 * [size - 16K, size)    label (copy B)
 * </pre>
 *
 * Every device of a vdev has the same layout. Logical column l (data 0..n-1, P = n, Q = n+1) of
 * physical stripe s lives on device (l + s) % width, so parity rotates and every device serves data
 * reads.
 */
record VdevLayout(
        int width,
        int columnSize,
        long deviceSize,
        int physicalStripes,
        int logicalStripes,
        int mapPages,
        long dataStart) {

    static final int BLOCK = 4096;
    static final int LABEL_AREA = 16 * 1024;
    static final int UBERBLOCK_SLOTS = 16;
    static final long UBERBLOCK_START = LABEL_AREA;
    static final long MAP_START = UBERBLOCK_START + (long) UBERBLOCK_SLOTS * BLOCK;
    static final int MAP_HEADER = 32;
    static final int MIN_WIDTH = 4;
    static final int MAX_WIDTH = 64;

    /**
     * Lays out a vdev of {@code width} devices of at least {@code deviceSize} bytes. A reserve of
     * physical stripes (1/64, at least 16) stays free beyond the logical size: copy-on-write needs
     * somewhere to put a transaction group before the stripes it replaces are freed.
     */
    static VdevLayout compute(int width, int columnSize, long deviceSize) {
        if (width < MIN_WIDTH || width > MAX_WIDTH) {
            throw new IllegalArgumentException(
                    "a raidz2 vdev needs " + MIN_WIDTH + " to " + MAX_WIDTH + " devices: " + width);
        }
        long usable = deviceSize - MAP_START - LABEL_AREA;
        long physical = Math.min(usable / columnSize, Integer.MAX_VALUE - 1L);
        while (physical > 0) {
            int logical = (int) (physical - reserve(physical));
            int pages = ceilDiv(logical, entriesPerPage(width));
            long dataStart = alignUp(MAP_START + 2L * BLOCK * pages, columnSize);
            long end = dataStart + physical * columnSize + LABEL_AREA;
            if (logical > 0 && end <= deviceSize) {
                return new VdevLayout(
                        width, columnSize, deviceSize, (int) physical, logical, pages, dataStart);
            }
            physical -= Math.max(1, (end - deviceSize) / columnSize);
        }
        throw new IllegalArgumentException(
                "devices of " + deviceSize + " bytes are too small for a vdev");
    }

    private static long reserve(long physical) {
        return Math.max(16, physical / 64);
    }

    static int entriesPerPage(int width) {
        return (BLOCK - MAP_HEADER) / entrySize(width);
    }

    /** A map entry: the physical stripe (or -1) and the checksum of the column on every device. */
    static int entrySize(int width) {
        return 4 + 4 * width;
    }

    int dataColumns() {
        return width - 2;
    }

    int stripeDataBytes() {
        return dataColumns() * columnSize;
    }

    long logicalBytes() {
        return (long) logicalStripes * stripeDataBytes();
    }

    int reserveStripes() {
        return physicalStripes - logicalStripes;
    }

    int device(long physicalStripe, int logicalColumn) {
        return (int) ((logicalColumn + physicalStripe) % width);
    }

    int logicalColumn(long physicalStripe, int device) {
        return (int) Math.floorMod(device - physicalStripe, (long) width);
    }

    long columnOffset(long physicalStripe) {
        return dataStart + physicalStripe * columnSize;
    }

    long mapSlotOffset(int page, int slot) {
        return MAP_START + (2L * page + slot) * BLOCK;
    }

    long uberblockOffset(long txg) {
        return UBERBLOCK_START + (txg % UBERBLOCK_SLOTS) * BLOCK;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }
}
