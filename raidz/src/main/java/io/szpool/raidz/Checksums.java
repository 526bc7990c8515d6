package io.szpool.raidz;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32C;

/**
 * The two checksums of the engine: CRC32C for column blocks (hardware-accelerated, so it never
 * limits throughput) and truncated SHA-256 for self-describing metadata (labels, uberblocks, map
 * pages), which is small and must not be mistaken for garbage even by chance.
 */
final class Checksums {
    private static final ThreadLocal<MessageDigest> SHA256 =
            ThreadLocal.withInitial(
                    () -> {
                        try {
                            return MessageDigest.getInstance("SHA-256");
                        } catch (NoSuchAlgorithmException e) {
                            throw new IllegalStateException(e);
                        }
                    });

    private Checksums() {}

    /**
     * CRC32C of a column, bound to where it belongs: mixing in the physical stripe and the device
     * makes a block that was written to the wrong place (or a stale copy of another stripe) fail.
     */
    static int column(byte[] buffer, int offset, int length, long physicalStripe, int device) {
        CRC32C crc = new CRC32C();
        crc.update(buffer, offset, length);
        long h = physicalStripe * 0x9E3779B97F4A7C15L + device * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 32;
        return (int) crc.getValue() ^ (int) h;
    }

    /**
     * The first 8 bytes of SHA-256 over {@code block[0, length)} with the 8 bytes at {@code at}
     * taken as zero, so the checksum can live inside the block it covers.
     */
    static long metadata(byte[] block, int length, int at) {
        MessageDigest sha = SHA256.get();
        sha.reset();
        sha.update(block, 0, at);
        sha.update(new byte[8]);
        sha.update(block, at + 8, length - at - 8);
        return ByteBuffer.wrap(sha.digest()).getLong();
    }
}
