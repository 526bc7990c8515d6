package io.szpool.crypto;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * The hole rule of szpool chunk files: a unit whose ciphertext is all zeros is a hole and reads as
 * zeros.
 *
 * <p>Sparse chunk files start as holes, and a TRIM makes holes again; neither ever passed through
 * the cipher, so decrypting them would hand out noise. The rule costs nothing in practice: a
 * written unit would read back wrong only if its 4096-byte ciphertext happened to be all zeros,
 * which for a pseudorandom permutation has probability 2^-32768 per unit.
 */
public final class Holes {

    /** A zero block that {@code mismatch} compares against; big enough for one call per unit. */
    private static final int ZEROS_LENGTH = 1 << 16;

    private static final byte[] ZEROS = new byte[ZEROS_LENGTH];
    private static final ByteBuffer ZERO_BUFFER = ByteBuffer.wrap(ZEROS).asReadOnlyBuffer();

    private Holes() {}

    /** Whether the remaining bytes of {@code buffer} are all zero; the position does not move. */
    public static boolean isZero(ByteBuffer buffer) {
        int position = buffer.position();
        int remaining = buffer.remaining();
        if (buffer.hasArray()) {
            return isZero(buffer.array(), buffer.arrayOffset() + position, remaining);
        }
        // ByteBuffer.mismatch is vectorized for heap and direct buffers alike.
        for (int done = 0; done < remaining; done += ZEROS_LENGTH) {
            int n = Math.min(ZEROS_LENGTH, remaining - done);
            if (buffer.slice(position + done, n).mismatch(ZERO_BUFFER.slice(0, n)) != -1) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code bytes[offset, offset + length)} are all zero. */
    public static boolean isZero(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        // Arrays.mismatch is an intrinsic that compares 32 or 64 bytes per step.
        for (int done = 0; done < length; done += ZEROS_LENGTH) {
            int n = Math.min(ZEROS_LENGTH, length - done);
            if (Arrays.mismatch(bytes, offset + done, offset + done + n, ZEROS, 0, n) != -1) {
                return false;
            }
        }
        return true;
    }
}
