package io.szpool.raidz;

/**
 * Arithmetic in GF(2^8) with the polynomial x^8+x^4+x^3+x^2+1 (0x11d) and generator 2, the field of
 * Linux md RAID-6 and ZFS raidz2, so our Q column matches theirs byte for byte.
 */
public final class Gf256 {
    private static final int POLYNOMIAL = 0x11d;
    private static final byte[] EXP = new byte[512];
    private static final int[] LOG = new int[256];
    private static final byte[][] MUL = new byte[256][256];

    static {
        int x = 1;
        for (int i = 0; i < 255; i++) {
            EXP[i] = (byte) x;
            LOG[x] = i;
            x <<= 1;
            if ((x & 0x100) != 0) {
                x ^= POLYNOMIAL;
            }
        }
        // A doubled table spares a modulo in mul.
        for (int i = 255; i < 512; i++) {
            EXP[i] = EXP[i - 255];
        }
        for (int c = 0; c < 256; c++) {
            for (int v = 0; v < 256; v++) {
                MUL[c][v] = (byte) mul(c, v);
            }
        }
    }

    private Gf256() {}

    public static int mul(int a, int b) {
        if (a == 0 || b == 0) {
            return 0;
        }
        return EXP[LOG[a & 0xff] + LOG[b & 0xff]] & 0xff;
    }

    public static int inverse(int a) {
        if ((a & 0xff) == 0) {
            throw new ArithmeticException("zero has no inverse in GF(2^8)");
        }
        return EXP[255 - LOG[a & 0xff]] & 0xff;
    }

    /** The generator 2 raised to {@code exponent} (any sign). */
    public static int pow2(int exponent) {
        return EXP[Math.floorMod(exponent, 255)] & 0xff;
    }

    /**
     * The shared 256-entry table of {@code x -> constant * x}: one lookup per byte in
     * reconstruction. Callers must not modify it.
     */
    static byte[] mulTable(int constant) {
        return MUL[constant & 0xff];
    }

    /**
     * Multiplies each of the 8 bytes packed in a long by 2: shift every byte left and reduce the
     * bytes whose top bit fell out by 0x1d (the polynomial without x^8). No carry crosses bytes.
     */
    public static long mul2(long x) {
        long high = x & 0x8080808080808080L;
        return ((x << 1) & 0xfefefefefefefefeL) ^ ((high >>> 7) * 0x1d);
    }
}
