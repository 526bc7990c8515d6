package io.szpool.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.security.auth.Destroyable;

/**
 * A pool's random 256-bit master key: every chunk key is derived from it, and it is only ever
 * stored wrapped in a {@link KeySlot}.
 */
public final class MasterKey implements Destroyable, AutoCloseable {

    public static final int LENGTH = 32;

    private static final byte[] KEY_ID_INFO =
            "szpool key id v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;
    private volatile boolean destroyed;

    private MasterKey(byte[] key) {
        this.key = key;
    }

    /** A fresh key from the platform's strong random source. */
    public static MasterKey generate() {
        byte[] key = new byte[LENGTH];
        RANDOM.nextBytes(key);
        return new MasterKey(key);
    }

    /** Takes a copy of 32 raw bytes: for key slots and tests, never for keys typed in by people. */
    static MasterKey of(byte[] raw) {
        if (raw.length != LENGTH) {
            throw new IllegalArgumentException(
                    "a master key is " + LENGTH + " bytes, got " + raw.length);
        }
        return new MasterKey(raw.clone());
    }

    /**
     * A public name for this key, 16 hex characters, for {@code ChunkCreated.keyId} and the
     * catalog. It is an HKDF output under its own label, so it tells nothing about the key or any
     * chunk key.
     */
    public String keyId() {
        byte[] id = Hkdf.derive(new byte[0], bytes(), KEY_ID_INFO, 8);
        return HexFormat.of().formatHex(id);
    }

    /** The raw bytes, a copy the caller should wipe. */
    byte[] bytes() {
        if (destroyed) {
            throw new IllegalStateException("this master key was destroyed");
        }
        return key.clone();
    }

    /** Whether both hold the same key, compared in constant time. */
    boolean sameKeyAs(MasterKey other) {
        return MessageDigest.isEqual(key, other.key);
    }

    @Override
    public void destroy() {
        Arrays.fill(key, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    public String toString() {
        return destroyed ? "MasterKey[destroyed]" : "MasterKey[256 bits, redacted]";
    }
}
