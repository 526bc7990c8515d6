package io.szpool.crypto;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-XTS over whole encryption units, bit-compatible with dm-crypt's {@code aes-xts-plain64}.
 *
 * <p>Unit {@code k} is one XTS data unit whose tweak is the plain64 IV: the unit's byte offset in
 * 512-byte sectors ({@code k * unitSize / 512}), a 64-bit little-endian number in a 16-byte block.
 * The JDK has no XTS, but its {@code AES/ECB/NoPadding} runs on AES-NI/VAES intrinsics, so each
 * slice of up to 64 KiB costs one ECB call for all its units' first tweaks and one for the data.
 * The per-block tweaks come from multiplying by alpha in GF(2^128) with shifts on two longs, and
 * the two tweak XORs run as loops that C2 vectorizes. DESIGN.md has the numbers.
 *
 * <p>Thread-safe: {@link Cipher} objects are not, so each call borrows an engine (three ciphers and
 * scratch space) from a small pool and gives it back.
 */
public final class XtsCipher implements AutoCloseable {

    /** dm-crypt's {@code --sector-size 4096}: the unit szpool chunks are encrypted in. */
    public static final int DEFAULT_UNIT_SIZE = 4096;

    /** plain64 counts in 512-byte sectors whatever the unit size. */
    static final int IV_SECTOR_SIZE = 512;

    private static final int BLOCK = 16;

    /**
     * Requests are worked in slices of this size: one tweak ECB call and one data ECB call each. 64
     * KiB keeps the slice, its tweak masks and both scratch copies in L2; 1 MiB slices ran slower.
     */
    private static final int SLICE = 1 << 16;

    /** The polynomial x^128 + x^7 + x^2 + x + 1 reduced into the low byte. */
    private static final long GF_128_FEEDBACK = 0x87;

    private static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int unitSize;
    private final int sectorsPerUnit;
    private final byte[] dataKey;
    private final byte[] tweakKey;
    private final ConcurrentLinkedQueue<Engine> idle = new ConcurrentLinkedQueue<>();
    private final AtomicInteger idleCount = new AtomicInteger();
    private final int maxIdle = Math.max(2, Runtime.getRuntime().availableProcessors() * 2);
    private volatile boolean closed;

    /**
     * An XTS cipher with dm-crypt's 4096-byte units. The key is copied; the caller keeps its own.
     */
    public XtsCipher(XtsKey key) {
        this(key, DEFAULT_UNIT_SIZE);
    }

    /**
     * An XTS cipher for units of {@code unitSize} bytes: a power of two from 512 to 64 KiB (512 for
     * the IEEE 1619 test vectors, where the unit number is the tweak itself).
     */
    public XtsCipher(XtsKey key, int unitSize) {
        if (Integer.bitCount(unitSize) != 1 || unitSize < IV_SECTOR_SIZE || unitSize > SLICE) {
            throw new IllegalArgumentException(
                    "unit size must be a power of two from 512 to 64 KiB, got " + unitSize);
        }
        this.unitSize = unitSize;
        this.sectorsPerUnit = unitSize / IV_SECTOR_SIZE;
        this.dataKey = key.dataKey();
        this.tweakKey = key.tweakKey();
        // Fail now, not on the first request, if the provider lacks AES.
        release(newEngine());
    }

    public int unitSize() {
        return unitSize;
    }

    /**
     * Encrypts {@code length} bytes (whole units) in place; the first byte starts unit {@code
     * firstUnit}.
     */
    public void encrypt(long firstUnit, byte[] buffer, int offset, int length) {
        crypt(true, firstUnit, buffer, offset, buffer, offset, length);
    }

    /**
     * Decrypts {@code length} bytes (whole units) in place; the first byte starts unit {@code
     * firstUnit}.
     */
    public void decrypt(long firstUnit, byte[] buffer, int offset, int length) {
        crypt(false, firstUnit, buffer, offset, buffer, offset, length);
    }

    /**
     * Encrypts whole units from {@code src} into {@code dst}; the ranges may be the same but not
     * overlap otherwise.
     */
    public void encrypt(
            long firstUnit, byte[] src, int srcOffset, byte[] dst, int dstOffset, int length) {
        crypt(true, firstUnit, src, srcOffset, dst, dstOffset, length);
    }

    /**
     * Decrypts whole units from {@code src} into {@code dst}; the ranges may be the same but not
     * overlap otherwise.
     */
    public void decrypt(
            long firstUnit, byte[] src, int srcOffset, byte[] dst, int dstOffset, int length) {
        crypt(false, firstUnit, src, srcOffset, dst, dstOffset, length);
    }

    /**
     * Encrypts {@code src.remaining()} bytes (whole units) from {@code src} into {@code dst},
     * advancing both positions. For direct buffers (an NBD request, a file read) this saves the
     * copies through a heap array: the engine reads and writes the buffers directly. The two may be
     * views of the same memory only if they start at the same address (in place).
     */
    public void encrypt(long firstUnit, ByteBuffer src, ByteBuffer dst) {
        crypt(true, firstUnit, src, dst);
    }

    /** Decrypts like {@link #encrypt(long, ByteBuffer, ByteBuffer)}. */
    public void decrypt(long firstUnit, ByteBuffer src, ByteBuffer dst) {
        crypt(false, firstUnit, src, dst);
    }

    private void crypt(boolean encrypt, long firstUnit, ByteBuffer src, ByteBuffer dst) {
        int length = src.remaining();
        checkUnits(firstUnit, length);
        if (dst.remaining() < length) {
            throw new IllegalArgumentException(
                    "destination has " + dst.remaining() + " bytes left, needs " + length);
        }
        Engine engine = borrow();
        try {
            for (int done = 0; done < length; ) {
                int slice = Math.min(SLICE, length - done);
                // The engine takes the whole slice out of src before it writes dst, so in place
                // (same memory, separate positions) is safe.
                src.get(engine.whitened, 0, slice);
                engine.transform(encrypt, firstUnit + done / unitSize, slice);
                dst.put(engine.transformed, 0, slice);
                done += slice;
            }
        } finally {
            release(engine);
        }
    }

    private void checkUnits(long firstUnit, int length) {
        if (length % unitSize != 0) {
            throw new IllegalArgumentException(
                    "length " + length + " is not a whole number of " + unitSize + "-byte units");
        }
        if (firstUnit < 0 || length / unitSize > (Long.MAX_VALUE / sectorsPerUnit) - firstUnit) {
            throw new IllegalArgumentException("unit number out of range: " + firstUnit);
        }
    }

    private void crypt(
            boolean encrypt,
            long firstUnit,
            byte[] src,
            int srcOffset,
            byte[] dst,
            int dstOffset,
            int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        checkUnits(firstUnit, length);
        if (src == dst && srcOffset != dstOffset && Math.abs(srcOffset - dstOffset) < length) {
            throw new IllegalArgumentException("source and destination overlap");
        }
        Engine engine = borrow();
        try {
            for (int done = 0; done < length; ) {
                int slice = Math.min(SLICE, length - done);
                engine.crypt(
                        encrypt,
                        firstUnit + done / unitSize,
                        src,
                        srcOffset + done,
                        dst,
                        dstOffset + done,
                        slice);
                done += slice;
            }
        } finally {
            release(engine);
        }
    }

    private Engine borrow() {
        if (closed) {
            throw new IllegalStateException("this XTS cipher is closed");
        }
        Engine engine = idle.poll();
        if (engine == null) {
            return newEngine();
        }
        idleCount.decrementAndGet();
        return engine;
    }

    private void release(Engine engine) {
        if (!closed && idleCount.incrementAndGet() <= maxIdle) {
            idle.offer(engine);
        } else {
            idleCount.decrementAndGet();
            engine.wipe();
        }
    }

    private Engine newEngine() {
        try {
            return new Engine();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/ECB/NoPadding is not available", e);
        }
    }

    /**
     * Wipes this cipher's copy of the key. The JDK keeps expanded round keys inside its Cipher
     * objects with no way to clear them; dropping the engines is the most we can do.
     */
    @Override
    public void close() {
        closed = true;
        Arrays.fill(dataKey, (byte) 0);
        Arrays.fill(tweakKey, (byte) 0);
        for (Engine engine; (engine = idle.poll()) != null; ) {
            engine.wipe();
        }
    }

    @Override
    public String toString() {
        return "XtsCipher[aes-xts-plain64, unit " + unitSize + " bytes]";
    }

    /** One thread's worth of ciphers and scratch space. */
    private final class Engine {
        private final Cipher dataEncrypt;
        private final Cipher dataDecrypt;
        private final Cipher tweakEncrypt;
        private final byte[] tweaks = new byte[SLICE / IV_SECTOR_SIZE * BLOCK];
        private final byte[] masks = new byte[SLICE];
        private final byte[] whitened = new byte[SLICE];
        private final byte[] transformed = new byte[SLICE];

        Engine() throws GeneralSecurityException {
            SecretKeySpec data = new SecretKeySpec(dataKey, "AES");
            SecretKeySpec tweak = new SecretKeySpec(tweakKey, "AES");
            dataEncrypt = Cipher.getInstance("AES/ECB/NoPadding");
            dataEncrypt.init(Cipher.ENCRYPT_MODE, data);
            dataDecrypt = Cipher.getInstance("AES/ECB/NoPadding");
            dataDecrypt.init(Cipher.DECRYPT_MODE, data);
            tweakEncrypt = Cipher.getInstance("AES/ECB/NoPadding");
            tweakEncrypt.init(Cipher.ENCRYPT_MODE, tweak);
        }

        /** One slice: at most {@link #SLICE} bytes. */
        void crypt(
                boolean encrypt,
                long firstUnit,
                byte[] src,
                int srcOffset,
                byte[] dst,
                int dstOffset,
                int length) {
            System.arraycopy(src, srcOffset, whitened, 0, length);
            transform(encrypt, firstUnit, length);
            System.arraycopy(transformed, 0, dst, dstOffset, length);
        }

        /**
         * XTS over the first {@code length} bytes of {@link #whitened}, result in {@link
         * #transformed}; {@code whitened} is overwritten.
         */
        void transform(boolean encrypt, long firstUnit, int length) {
            int units = length / unitSize;
            int tweakBytes = units * BLOCK;
            for (int u = 0; u < units; u++) {
                LONGS.set(tweaks, u * BLOCK, (firstUnit + u) * sectorsPerUnit);
                LONGS.set(tweaks, u * BLOCK + 8, 0L);
            }
            try {
                // All first tweaks of the slice in one ECB call with the tweak key.
                tweakEncrypt.update(tweaks, 0, tweakBytes, tweaks, 0);
                fillMasks(units);
                xorInPlace(whitened, masks, length);
                // One ECB call for the data of the slice. Out of place: given one array for both,
                // the JDK copies the input first.
                (encrypt ? dataEncrypt : dataDecrypt).update(whitened, 0, length, transformed, 0);
                xorInPlace(transformed, masks, length);
            } catch (ShortBufferException e) {
                throw new IllegalStateException("ECB output did not fit its own input size", e);
            }
        }

        /** The tweak of every block: each unit's first tweak times alpha^j for its block j. */
        private void fillMasks(int units) {
            for (int u = 0; u < units; u++) {
                long lo = (long) LONGS.get(tweaks, u * BLOCK);
                long hi = (long) LONGS.get(tweaks, u * BLOCK + 8);
                for (int m = u * unitSize, end = m + unitSize; m < end; m += BLOCK) {
                    LONGS.set(masks, m, lo);
                    LONGS.set(masks, m + 8, hi);
                    // Multiply by alpha: shift the 128-bit little-endian tweak left by one and fold
                    // the bit that falls off back in with the field polynomial.
                    long carry = hi >> 63;
                    hi = (hi << 1) | (lo >>> 63);
                    lo = (lo << 1) ^ (carry & GF_128_FEEDBACK);
                }
            }
        }

        void wipe() {
            Arrays.fill(tweaks, (byte) 0);
            Arrays.fill(masks, (byte) 0);
            Arrays.fill(whitened, (byte) 0);
            Arrays.fill(transformed, (byte) 0);
        }
    }

    /**
     * {@code data[i] ^= mask[i]}. Kept to this exact shape (both arrays from index 0) because that
     * is what C2 turns into AVX-512 XORs; with an offset on either side it falls back to bytes and
     * runs some 50 times slower.
     */
    private static void xorInPlace(byte[] data, byte[] mask, int length) {
        for (int i = 0; i < length; i++) {
            data[i] ^= mask[i];
        }
    }
}
