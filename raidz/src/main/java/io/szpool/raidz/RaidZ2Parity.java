package io.szpool.raidz;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * RAID-Z2 parity of one stripe: P (XOR) and Q (Reed-Solomon, sum of 2^i * D_i over GF(2^8)) over
 * {@code width - 2} data columns, and reconstruction of any one or two missing columns.
 *
 * <p>A stripe is passed as {@code columns[i]} at {@code offsets[i]}, {@code length} bytes each, in
 * logical order: data columns 0..n-1, then P at n, then Q at n+1. Offsets let a caller keep the
 * columns of many stripes in one buffer per device. Lengths are multiples of 8 because the work is
 * done on longs: XOR and multiply-by-2 eight bytes at a time.
 */
public final class RaidZ2Parity {
    private static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private RaidZ2Parity() {}

    /** Computes P and Q from the data columns. */
    public static void generate(byte[][] columns, int[] offsets, int length) {
        int n = dataColumns(columns, offsets, length);
        syndromes(
                columns,
                offsets,
                length,
                -1,
                -1,
                columns[n],
                offsets[n],
                columns[n + 1],
                offsets[n + 1]);
    }

    /**
     * Rebuilds the columns named in {@code missing} (one or two logical indexes, data or parity)
     * from the others; what was in the missing columns' buffers is ignored and overwritten.
     */
    public static void reconstruct(byte[][] columns, int[] offsets, int length, int... missing) {
        int n = dataColumns(columns, offsets, length);
        if (missing.length == 0) {
            return;
        }
        if (missing.length > 2) {
            throw new IllegalArgumentException("double parity rebuilds at most two columns");
        }
        int[] lost = missing.clone();
        Arrays.sort(lost);
        for (int c : lost) {
            if (c < 0 || c >= n + 2) {
                throw new IllegalArgumentException("no column " + c);
            }
        }
        int a = lost[0];
        int b = lost.length == 2 ? lost[1] : -1;
        if (a == b) {
            throw new IllegalArgumentException("column " + a + " named twice");
        }
        int p = n;
        int q = n + 1;
        if (a >= n) {
            // Only parity is lost: compute it again.
            generate(columns, offsets, length);
        } else if (b == -1 || b == q) {
            // One data column and at most Q: P alone restores the data, then Q follows.
            recoverWithP(columns, offsets, length, n, a);
            if (b == q) {
                generate(columns, offsets, length);
            }
        } else if (b == p) {
            recoverWithQ(columns, offsets, length, n, a);
            generate(columns, offsets, length);
        } else {
            recoverTwoData(columns, offsets, length, n, a, b);
        }
    }

    private static int dataColumns(byte[][] columns, int[] offsets, int length) {
        if (columns.length < 3 || offsets.length != columns.length) {
            throw new IllegalArgumentException("a stripe needs data, P and Q columns with offsets");
        }
        if ((length & 7) != 0) {
            throw new IllegalArgumentException("column length must be a multiple of 8: " + length);
        }
        if (columns.length - 2 > 255) {
            throw new IllegalArgumentException("GF(2^8) parity covers at most 255 data columns");
        }
        return columns.length - 2;
    }

    /**
     * P' = XOR and Q' = sum 2^i * D_i over the data columns other than {@code skipA} and {@code
     * skipB} (which count as zero), written to the given buffers. Horner's rule from the highest
     * column down needs only multiply-by-2, which {@link Gf256#mul2} does on a whole long.
     */
    private static void syndromes(
            byte[][] columns,
            int[] offsets,
            int length,
            int skipA,
            int skipB,
            byte[] pOut,
            int pOff,
            byte[] qOut,
            int qOff) {
        int n = columns.length - 2;
        for (int i = 0; i < length; i += 8) {
            long pv = 0;
            long qv = 0;
            for (int c = n - 1; c >= 0; c--) {
                qv = Gf256.mul2(qv);
                if (c != skipA && c != skipB) {
                    long d = (long) LONGS.get(columns[c], offsets[c] + i);
                    pv ^= d;
                    qv ^= d;
                }
            }
            if (pOut != null) {
                LONGS.set(pOut, pOff + i, pv);
            }
            if (qOut != null) {
                LONGS.set(qOut, qOff + i, qv);
            }
        }
    }

    private static void recoverWithP(byte[][] columns, int[] offsets, int length, int n, int x) {
        byte[] dst = columns[x];
        int dOff = offsets[x];
        byte[] p = columns[n];
        int pOff = offsets[n];
        for (int i = 0; i < length; i += 8) {
            long v = (long) LONGS.get(p, pOff + i);
            for (int c = 0; c < n; c++) {
                if (c != x) {
                    v ^= (long) LONGS.get(columns[c], offsets[c] + i);
                }
            }
            LONGS.set(dst, dOff + i, v);
        }
    }

    /** D_x = (Q + Q') / 2^x, where Q' is Q computed with D_x taken as zero. */
    private static void recoverWithQ(byte[][] columns, int[] offsets, int length, int n, int x) {
        byte[] dst = columns[x];
        int dOff = offsets[x];
        syndromes(columns, offsets, length, x, -1, null, 0, dst, dOff);
        byte[] q = columns[n + 1];
        int qOff = offsets[n + 1];
        byte[] divide = Gf256.mulTable(Gf256.pow2(-x));
        for (int i = 0; i < length; i++) {
            dst[dOff + i] = divide[(dst[dOff + i] ^ q[qOff + i]) & 0xff];
        }
    }

    /**
     * Two data columns a < b (as Linux raid6_2data_recov): with Pab = P + P' and Qab = Q + Q', D_b
     * = Pab * 1/(2^(b-a) + 1) + Qab * 1/(2^a + 2^b) and D_a = D_b + Pab.
     */
    private static void recoverTwoData(
            byte[][] columns, int[] offsets, int length, int n, int a, int b) {
        byte[] da = columns[a];
        int aOff = offsets[a];
        byte[] db = columns[b];
        int bOff = offsets[b];
        syndromes(columns, offsets, length, a, b, da, aOff, db, bOff);
        byte[] p = columns[n];
        int pOff = offsets[n];
        byte[] q = columns[n + 1];
        int qOff = offsets[n + 1];
        byte[] pMul = Gf256.mulTable(Gf256.inverse(Gf256.pow2(b - a) ^ 1));
        byte[] qMul = Gf256.mulTable(Gf256.inverse(Gf256.pow2(a) ^ Gf256.pow2(b)));
        for (int i = 0; i < length; i++) {
            int pab = (da[aOff + i] ^ p[pOff + i]) & 0xff;
            int qab = (db[bOff + i] ^ q[qOff + i]) & 0xff;
            int dataB = pMul[pab] ^ qMul[qab];
            db[bOff + i] = (byte) dataB;
            da[aOff + i] = (byte) (dataB ^ pab);
        }
    }
}
