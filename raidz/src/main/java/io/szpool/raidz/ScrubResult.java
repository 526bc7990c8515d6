package io.szpool.raidz;

/**
 * What a scrub found: bytes read from devices (data and parity columns), bytes of columns rewritten
 * with reconstructed content, and bytes of volume data that could not be rebuilt.
 */
public record ScrubResult(long bytesScanned, long bytesRepaired, long bytesUnrecoverable) {
    ScrubResult plus(ScrubResult other) {
        return new ScrubResult(
                bytesScanned + other.bytesScanned,
                bytesRepaired + other.bytesRepaired,
                bytesUnrecoverable + other.bytesUnrecoverable);
    }
}
