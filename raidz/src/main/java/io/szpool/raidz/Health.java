package io.szpool.raidz;

/** Health of a pool, a vdev or a device, in zpool's words. */
public enum Health {
    /** Everything readable and verified. */
    ONLINE,
    /** Still serving every byte, with less redundancy (or a device that returns bad data). */
    DEGRADED,
    /** Not used: too many I/O errors, or (for a vdev) more than two devices lost. */
    FAULTED,
    /** A device that was not found at import. */
    UNAVAIL,
    /** A new device being rebuilt by {@code replace}: written, not yet read. */
    RESILVERING
}
