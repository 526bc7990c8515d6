package io.szpool.crypto;

import java.util.Arrays;
import java.util.HexFormat;
import javax.security.auth.Destroyable;

/**
 * A chunk's 512-bit AES-256-XTS key: the data key (first half) then the tweak key (second half).
 */
public final class XtsKey implements Destroyable, AutoCloseable {

    /** Key length in bytes, what {@code cryptsetup --key-size 512} expects in its key file. */
    public static final int LENGTH = 64;

    static final int HALF = LENGTH / 2;

    private final byte[] key;
    private volatile boolean destroyed;

    private XtsKey(byte[] key) {
        this.key = key;
    }

    /**
     * Takes a copy of 64 raw key bytes. Equal halves are refused, as OpenSSL and the kernel do in
     * FIPS mode: XTS with key1 == key2 loses its security argument.
     */
    public static XtsKey of(byte[] raw) {
        if (raw.length != LENGTH) {
            throw new IllegalArgumentException(
                    "an AES-256-XTS key is " + LENGTH + " bytes, got " + raw.length);
        }
        if (Arrays.equals(raw, 0, HALF, raw, HALF, LENGTH)) {
            throw new IllegalArgumentException("the two halves of an XTS key must differ");
        }
        return new XtsKey(raw.clone());
    }

    /** The raw 64 bytes, a copy: what goes into a {@code cryptsetup --key-file}. */
    public byte[] bytes() {
        checkLive();
        return key.clone();
    }

    /** The key in lower-case hex, 128 characters: what {@code szpool key dump} prints. */
    public String hex() {
        checkLive();
        return HexFormat.of().formatHex(key);
    }

    byte[] dataKey() {
        checkLive();
        return Arrays.copyOfRange(key, 0, HALF);
    }

    byte[] tweakKey() {
        checkLive();
        return Arrays.copyOfRange(key, HALF, LENGTH);
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
        return destroyed ? "XtsKey[destroyed]" : "XtsKey[512 bits, redacted]";
    }

    private void checkLive() {
        if (destroyed) {
            throw new IllegalStateException("this XTS key was destroyed");
        }
    }
}
