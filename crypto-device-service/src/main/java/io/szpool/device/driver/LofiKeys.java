package io.szpool.device.driver;

import io.szpool.crypto.Hkdf;
import io.szpool.crypto.XtsKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The 256-bit key lofi's {@code aes-256-cbc} takes for a chunk, derived from the chunk's XTS key:
 * {@code HKDF-SHA256(salt = none, ikm = chunk XTS key (64 bytes), info = "szpool lofi aes-256-cbc
 * key v1", 32 bytes)}.
 *
 * <p>From the chunk key rather than from the master key because {@code szpool key dump} prints the
 * chunk key, so one OpenSSL call recovers the lofi key without szpool ({@code openssl kdf -keylen
 * 32 -kdfopt digest:SHA256 -kdfopt hexkey:KEY -kdfopt info:"szpool lofi aes-256-cbc key v1" -binary
 * HKDF}); the XTS key is itself chunk-bound, so lofi keys differ per chunk too. It is a separate
 * HKDF output, so the lofi key reveals nothing of the XTS key and the other way round.
 */
public final class LofiKeys {
    static final byte[] INFO = "szpool lofi aes-256-cbc key v1".getBytes(StandardCharsets.US_ASCII);
    public static final int LENGTH = 32;

    private LofiKeys() {}

    /** The raw 32-byte key; the caller wipes it. */
    public static byte[] derive(XtsKey chunkKey) {
        byte[] ikm = chunkKey.bytes();
        try {
            return Hkdf.derive(new byte[0], ikm, INFO, LENGTH);
        } finally {
            Arrays.fill(ikm, (byte) 0);
        }
    }
}
