package io.szpool.raidz;

/** One device of a vdev as {@code zpool status} shows it: where it sits, its state, its errors. */
public record DeviceStatus(
        int vdev,
        int column,
        String device,
        Health state,
        long readErrors,
        long writeErrors,
        long checksumErrors) {}
