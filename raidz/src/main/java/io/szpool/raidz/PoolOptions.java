package io.szpool.raidz;

/**
 * Tunables of a pool.
 *
 * @param columnSize bytes of one column block (one device's share of a stripe); a power of two from
 *     512 to 64 KiB, fixed at creation and recorded in the labels
 * @param ioErrorLimit read plus write errors after which a device is faulted and no longer used
 * @param checksumErrorLimit checksum errors after which a device is reported DEGRADED (it is still
 *     read, verified and repaired, as ZFS does)
 * @param dirtyLimitBytes volume bytes buffered in memory before they are written out to free
 *     stripes (not made durable: that waits for a flush, the txg timeout or the reserve)
 * @param txgTimeoutMillis how long after the first change since the last durable commit a
 *     background commit makes it durable without a flush (ZFS's txg timeout); 0 turns it off
 */
public record PoolOptions(
        int columnSize,
        int ioErrorLimit,
        int checksumErrorLimit,
        long dirtyLimitBytes,
        long txgTimeoutMillis) {

    public static final PoolOptions DEFAULTS = new PoolOptions(4096, 8, 64, 32L << 20, 5000);

    public PoolOptions {
        if (columnSize < 512 || columnSize > 65536 || Integer.bitCount(columnSize) != 1) {
            throw new IllegalArgumentException(
                    "column size must be a power of two from 512 to 65536: " + columnSize);
        }
        if (ioErrorLimit < 1 || checksumErrorLimit < 1 || dirtyLimitBytes < columnSize) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (txgTimeoutMillis < 0) {
            throw new IllegalArgumentException(
                    "txg timeout must be 0 (off) or positive: " + txgTimeoutMillis);
        }
    }

    public PoolOptions withColumnSize(int bytes) {
        return new PoolOptions(
                bytes, ioErrorLimit, checksumErrorLimit, dirtyLimitBytes, txgTimeoutMillis);
    }

    public PoolOptions withDirtyLimitBytes(long bytes) {
        return new PoolOptions(
                columnSize, ioErrorLimit, checksumErrorLimit, bytes, txgTimeoutMillis);
    }

    public PoolOptions withIoErrorLimit(int errors) {
        return new PoolOptions(
                columnSize, errors, checksumErrorLimit, dirtyLimitBytes, txgTimeoutMillis);
    }

    public PoolOptions withTxgTimeoutMillis(long millis) {
        return new PoolOptions(
                columnSize, ioErrorLimit, checksumErrorLimit, dirtyLimitBytes, millis);
    }
}
