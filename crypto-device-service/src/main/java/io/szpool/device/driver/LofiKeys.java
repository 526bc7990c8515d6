package io.szpool.device.driver;

import io.szpool.crypto.XtsKey;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

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
        byte[] prk = null;
        try {
            // RFC 5869: extract with an all-zero salt of hash length, then one expand block.
            prk = hmac(new byte[32], ikm);
            byte[] block = hmac(prk, concat(INFO, new byte[] {1}));
            return Arrays.copyOf(block, LENGTH);
        } finally {
            Arrays.fill(ikm, (byte) 0);
            if (prk != null) {
                Arrays.fill(prk, (byte) 0);
            }
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
