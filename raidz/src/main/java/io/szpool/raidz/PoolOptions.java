package io.szpool.raidz;

/**
 * Tunables of a pool.
 *
 * @param columnSize bytes of one column block (one device's share of a stripe); a power of two from
 *     512 to 64 KiB, fixed at creation and recorded in the labels
 * @param ioErrorLimit read plus write errors after which a device is faulted and no longer used
 * @param checksumErrorLimit checksum errors after which a device is reported DEGRADED (it is still
 *     read, verified and repaired, as ZFS does)
 * @param dirtyLimitBytes volume bytes buffered in memory before a transaction group is committed
 *     without waiting for a flush
 */
public record PoolOptions(
        int columnSize, int ioErrorLimit, int checksumErrorLimit, long dirtyLimitBytes) {

    public static final PoolOptions DEFAULTS = new PoolOptions(4096, 8, 64, 32L << 20);

    public PoolOptions {
        if (columnSize < 512 || columnSize > 65536 || Integer.bitCount(columnSize) != 1) {
            throw new IllegalArgumentException(
                    "column size must be a power of two from 512 to 65536: " + columnSize);
        }
        if (ioErrorLimit < 1 || checksumErrorLimit < 1 || dirtyLimitBytes < columnSize) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    public PoolOptions withColumnSize(int bytes) {
        return new PoolOptions(bytes, ioErrorLimit, checksumErrorLimit, dirtyLimitBytes);
    }

    public PoolOptions withDirtyLimitBytes(long bytes) {
        return new PoolOptions(columnSize, ioErrorLimit, checksumErrorLimit, bytes);
    }

    public PoolOptions withIoErrorLimit(int errors) {
        return new PoolOptions(columnSize, errors, checksumErrorLimit, dirtyLimitBytes);
    }
}
