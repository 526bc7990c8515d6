package io.szpool.raidz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RaidZ2ParityTest {

    @Test
    void fieldMatchesRaid6Tables() {
        // Known values of the 0x11d field: 2^8 = 0x1d, 2^255 = 1, and a*inverse(a) = 1 for all a.
        assertEquals(0x1d, Gf256.pow2(8));
        assertEquals(1, Gf256.pow2(255));
        for (int a = 1; a < 256; a++) {
            assertEquals(1, Gf256.mul(a, Gf256.inverse(a)));
            assertEquals(Gf256.mul(a, 2), (int) (Gf256.mul2(a) & 0xff));
        }
        long packed = 0x80_40_ff_01_00_7f_fe_c3L;
        long doubled = Gf256.mul2(packed);
        for (int i = 0; i < 8; i++) {
            int x = (int) (packed >>> (8 * i)) & 0xff;
            assertEquals(Gf256.mul(x, 2), (int) (doubled >>> (8 * i)) & 0xff);
        }
    }

    @Test
    void parityMatchesBytewiseDefinition() {
        Random random = new Random(1);
        int length = 1024;
        for (int width = 4; width <= 12; width++) {
            byte[][] stripe = randomStripe(random, width, length);
            RaidZ2Parity.generate(stripe, new int[width], length);
            int n = width - 2;
            for (int i = 0; i < length; i++) {
                int p = 0;
                int q = 0;
                for (int c = 0; c < n; c++) {
                    p ^= stripe[c][i] & 0xff;
                    q ^= Gf256.mul(Gf256.pow2(c), stripe[c][i] & 0xff);
                }
                assertEquals(p, stripe[n][i] & 0xff);
                assertEquals(q, stripe[n + 1][i] & 0xff);
            }
        }
    }

    @Test
    void everySingleAndDoubleErasureIsRebuilt() {
        Random random = new Random(2);
        int length = 520; // not a power of two, to catch stride mistakes
        for (int width = 4; width <= 8; width++) {
            byte[][] original = randomStripe(random, width, length);
            RaidZ2Parity.generate(original, new int[width], length);
            for (int a = 0; a < width; a++) {
                byte[][] damaged = copy(original);
                random.nextBytes(damaged[a]);
                RaidZ2Parity.reconstruct(damaged, new int[width], length, a);
                assertStripeEquals(original, damaged, width + " wide, lost " + a);
                for (int b = a + 1; b < width; b++) {
                    damaged = copy(original);
                    random.nextBytes(damaged[a]);
                    random.nextBytes(damaged[b]);
                    RaidZ2Parity.reconstruct(damaged, new int[width], length, b, a);
                    assertStripeEquals(original, damaged, width + " wide, lost " + a + "+" + b);
                }
            }
        }
    }

    @Test
    void columnsAtOffsetsInSharedBuffers() {
        // The vdev keeps many stripes per device buffer; stripe k lives at k * column size.
        Random random = new Random(3);
        int width = 6;
        int column = 64;
        int stripes = 5;
        byte[][] devices = new byte[width][stripes * column];
        for (byte[] d : devices) {
            random.nextBytes(d);
        }
        for (int s = 0; s < stripes; s++) {
            int[] offsets = new int[width];
            Arrays.fill(offsets, s * column);
            RaidZ2Parity.generate(devices, offsets, column);
        }
        byte[][] damaged = copy(devices);
        for (int s = 0; s < stripes; s++) {
            int[] offsets = new int[width];
            Arrays.fill(offsets, s * column);
            Arrays.fill(damaged[1], s * column, (s + 1) * column, (byte) 0x55);
            Arrays.fill(damaged[4], s * column, (s + 1) * column, (byte) 0x55);
            RaidZ2Parity.reconstruct(damaged, offsets, column, 1, 4);
        }
        assertStripeEquals(devices, damaged, "shared buffers");
    }

    private static byte[][] randomStripe(Random random, int width, int length) {
        byte[][] stripe = new byte[width][length];
        for (int c = 0; c < width - 2; c++) {
            random.nextBytes(stripe[c]);
        }
        return stripe;
    }

    private static byte[][] copy(byte[][] stripe) {
        byte[][] copy = new byte[stripe.length][];
        for (int i = 0; i < stripe.length; i++) {
            copy[i] = stripe[i].clone();
        }
        return copy;
    }

    private static void assertStripeEquals(byte[][] expected, byte[][] actual, String what) {
        for (int c = 0; c < expected.length; c++) {
            assertArrayEquals(expected[c], actual[c], what + ": column " + c);
        }
    }
}
