package io.szpool.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class XtsCipherTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] IEEE_KEY =
            HEX.parseHex(
                    "2718281828459045235360287471352662497757247093699959574966967627"
                            + "3141592653589793238462643383279502884197169399375105820974944592");

    record IeeeVector(int number, long dataUnit, byte[] ciphertext) {
        @Override
        public String toString() {
            return "IEEE 1619 vector " + number;
        }
    }

    static List<IeeeVector> ieeeVectors() throws IOException {
        List<IeeeVector> vectors = new ArrayList<>();
        try (BufferedReader reader =
                new BufferedReader(
                        new InputStreamReader(
                                XtsCipherTest.class.getResourceAsStream(
                                        "/ieee1619-2007-xts-aes-256.txt"),
                                StandardCharsets.US_ASCII))) {
            for (String line; (line = reader.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] fields = line.trim().split("\\s+");
                vectors.add(
                        new IeeeVector(
                                Integer.parseInt(fields[0]),
                                Long.parseUnsignedLong(fields[1], 16),
                                HEX.parseHex(fields[2])));
            }
        }
        assertEquals(5, vectors.size(), "vectors 10 to 14");
        return vectors;
    }

    private static byte[] ieeePlaintext() {
        byte[] plaintext = new byte[512];
        for (int i = 0; i < plaintext.length; i++) {
            plaintext[i] = (byte) i;
        }
        return plaintext;
    }

    @ParameterizedTest
    @MethodSource("ieeeVectors")
    void encryptsIeeeVector(IeeeVector vector) {
        try (XtsCipher cipher = new XtsCipher(XtsKey.of(IEEE_KEY), 512)) {
            byte[] data = ieeePlaintext();
            cipher.encrypt(vector.dataUnit(), data, 0, data.length);
            assertArrayEquals(vector.ciphertext(), data);
        }
    }

    @ParameterizedTest
    @MethodSource("ieeeVectors")
    void decryptsIeeeVector(IeeeVector vector) {
        try (XtsCipher cipher = new XtsCipher(XtsKey.of(IEEE_KEY), 512)) {
            byte[] out = new byte[512 + 7];
            cipher.decrypt(vector.dataUnit(), vector.ciphertext(), 0, out, 7, 512);
            assertArrayEquals(ieeePlaintext(), Arrays.copyOfRange(out, 7, out.length));
        }
    }

    @Test
    void aRunOfUnitsEqualsTheUnitsOneByOne() {
        // Vectors 10 and 11 are units 0xff and 0xffff; one call over a long run must give each
        // unit the tweak of its own number.
        Random random = new Random(1);
        byte[] key = randomKey(random);
        byte[] plaintext = new byte[37 * 4096];
        random.nextBytes(plaintext);
        try (XtsCipher cipher = new XtsCipher(XtsKey.of(key))) {
            byte[] run = plaintext.clone();
            cipher.encrypt(1000, run, 0, run.length);
            for (int u = 0; u < 37; u++) {
                byte[] unit = Arrays.copyOfRange(plaintext, u * 4096, (u + 1) * 4096);
                cipher.encrypt(1000 + u, unit, 0, 4096);
                assertArrayEquals(unit, Arrays.copyOfRange(run, u * 4096, (u + 1) * 4096));
            }
            cipher.decrypt(1000, run, 0, run.length);
            assertArrayEquals(plaintext, run);
        }
    }

    @Test
    void requestsLargerThanOneSliceRoundTrip() {
        Random random = new Random(2);
        byte[] plaintext = new byte[(3 << 20) + 5 * 4096];
        random.nextBytes(plaintext);
        try (XtsCipher cipher = new XtsCipher(XtsKey.of(randomKey(random)))) {
            byte[] ciphertext = new byte[plaintext.length];
            cipher.encrypt(7, plaintext, 0, ciphertext, 0, plaintext.length);
            byte[] lastUnit =
                    Arrays.copyOfRange(plaintext, plaintext.length - 4096, plaintext.length);
            cipher.encrypt(7 + plaintext.length / 4096 - 1, lastUnit, 0, 4096);
            assertArrayEquals(
                    lastUnit,
                    Arrays.copyOfRange(ciphertext, ciphertext.length - 4096, ciphertext.length));
            cipher.decrypt(7, ciphertext, 0, ciphertext.length);
            assertArrayEquals(plaintext, ciphertext);
        }
    }

    @Test
    void byteBuffersGiveTheSameBytesAsArraysInPlaceOrNot() {
        Random random = new Random(5);
        byte[] plaintext = new byte[(1 << 20) + 3 * 4096]; // several engine slices
        random.nextBytes(plaintext);
        try (XtsCipher cipher = new XtsCipher(XtsKey.of(randomKey(random)))) {
            byte[] expected = plaintext.clone();
            cipher.encrypt(42, expected, 0, expected.length);

            ByteBuffer src = ByteBuffer.allocateDirect(plaintext.length).put(plaintext).flip();
            ByteBuffer dst = ByteBuffer.allocateDirect(plaintext.length);
            cipher.encrypt(42, src, dst);
            assertEquals(0, src.remaining(), "src consumed");
            assertEquals(0, dst.remaining(), "dst filled");
            byte[] viaBuffers = new byte[plaintext.length];
            dst.flip().get(viaBuffers);
            assertArrayEquals(expected, viaBuffers, "direct out of place");

            ByteBuffer inPlace = ByteBuffer.allocateDirect(plaintext.length).put(expected).flip();
            cipher.decrypt(42, inPlace, inPlace.duplicate());
            byte[] back = new byte[plaintext.length];
            inPlace.rewind().get(back);
            assertArrayEquals(plaintext, back, "direct in place");

            ByteBuffer heap = ByteBuffer.wrap(plaintext.clone());
            cipher.encrypt(42, heap.duplicate(), heap.duplicate());
            assertArrayEquals(expected, heap.array(), "heap buffers in place");
            assertThrows(
                    IllegalArgumentException.class,
                    () -> cipher.encrypt(0, ByteBuffer.allocate(4096), ByteBuffer.allocate(4095)));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> cipher.encrypt(0, ByteBuffer.allocate(4000), ByteBuffer.allocate(4096)));
        }
    }

    @Test
    void matchesAnIndependentXtsAtDmCryptOffsets() throws IOException {
        Optional<ReferenceXts> found = ReferenceXts.find();
        assumeTrue(found.isPresent(), ReferenceXts.whyNone());
        ReferenceXts reference = found.get();
        Random random = new Random(3);
        byte[] key = randomKey(random);
        // Single units across the IV range, then a run of 20 units crossing a slice boundary; all
        // of them in one reference call, each unit with its own plain64 tweak.
        long[][] runs = {
            {0, 1},
            {1, 1},
            {255, 1},
            {262_143, 1},
            {1L << 32, 1},
            {Long.MAX_VALUE / 8 - 1, 1},
            {10, 20}
        };
        List<Long> unitNumbers = new ArrayList<>();
        ByteArrayOutputStream plaintext = new ByteArrayOutputStream();
        ByteArrayOutputStream ours = new ByteArrayOutputStream();
        try (XtsCipher cipher = new XtsCipher(XtsKey.of(key))) {
            for (long[] run : runs) {
                byte[] data = new byte[(int) run[1] * 4096];
                random.nextBytes(data);
                plaintext.writeBytes(data);
                cipher.encrypt(run[0], data, 0, data.length);
                ours.writeBytes(data);
                for (int u = 0; u < run[1]; u++) {
                    unitNumbers.add(run[0] + u);
                }
            }
        }
        long[] units = unitNumbers.stream().mapToLong(Long::longValue).toArray();
        byte[] theirs = reference.encryptUnits(key, 4096, units, plaintext.toByteArray());
        for (int i = 0; i < units.length; i++) {
            assertArrayEquals(
                    Arrays.copyOfRange(theirs, i * 4096, (i + 1) * 4096),
                    Arrays.copyOfRange(ours.toByteArray(), i * 4096, (i + 1) * 4096),
                    reference.name() + " disagrees at unit " + units[i]);
        }
        assertArrayEquals(
                plaintext.toByteArray(),
                reference.decryptUnits(key, 4096, units, ours.toByteArray()));
    }

    @Test
    void isSafeToShareBetweenThreads() throws Exception {
        Random random = new Random(4);
        byte[] key = randomKey(random);
        byte[] plaintext = new byte[64 * 4096];
        random.nextBytes(plaintext);
        try (XtsCipher shared = new XtsCipher(XtsKey.of(key));
                XtsCipher alone = new XtsCipher(XtsKey.of(key))) {
            byte[] expected = plaintext.clone();
            alone.encrypt(0, expected, 0, expected.length);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    results.add(
                            pool.submit(
                                    () -> {
                                        for (int i = 0; i < 50; i++) {
                                            byte[] mine = plaintext.clone();
                                            shared.encrypt(0, mine, 0, mine.length);
                                            if (!Arrays.equals(expected, mine)) {
                                                return false;
                                            }
                                        }
                                        return true;
                                    }));
                }
                for (Future<Boolean> result : results) {
                    assertEquals(true, result.get());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void refusesPartialUnitsAndBadKeys() {
        byte[] key = randomKey(new Random(5));
        try (XtsCipher cipher = new XtsCipher(XtsKey.of(key))) {
            byte[] buffer = new byte[8192];
            assertThrows(IllegalArgumentException.class, () -> cipher.encrypt(0, buffer, 0, 4000));
            assertThrows(IllegalArgumentException.class, () -> cipher.encrypt(-1, buffer, 0, 4096));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> cipher.encrypt(0, buffer, 0, buffer, 16, 4096));
        }
        byte[] equalHalves = new byte[64];
        assertThrows(IllegalArgumentException.class, () -> XtsKey.of(equalHalves));
        assertThrows(IllegalArgumentException.class, () -> XtsKey.of(new byte[32]));
        assertThrows(IllegalArgumentException.class, () -> new XtsCipher(XtsKey.of(key), 4000));
    }

    @Test
    void keyNeverShowsItsBytes() {
        byte[] key = randomKey(new Random(6));
        XtsKey xtsKey = XtsKey.of(key);
        assertFalse(xtsKey.toString().contains(HEX.formatHex(key, 0, 4)));
        assertEquals(HEX.formatHex(key), xtsKey.hex());
        xtsKey.close();
        assertThrows(IllegalStateException.class, xtsKey::hex);
        assertNotEquals(HEX.formatHex(key), xtsKey.toString());
    }

    @Test
    void zeroCheckSeesASingleSetBit() {
        byte[] unit = new byte[4096];
        ByteBuffer direct = ByteBuffer.allocateDirect(4096);
        assertEquals(true, Holes.isZero(ByteBuffer.wrap(unit)));
        assertEquals(true, Holes.isZero(direct));
        for (int i : new int[] {0, 1, 2047, 4095}) {
            unit[i] = 1;
            direct.put(i, (byte) 0x80);
            assertFalse(Holes.isZero(ByteBuffer.wrap(unit)));
            assertFalse(Holes.isZero(direct));
            assertEquals(true, Holes.isZero(unit, 0, i));
            unit[i] = 0;
            direct.put(i, (byte) 0);
        }
    }

    static byte[] randomKey(Random random) {
        byte[] key = new byte[64];
        random.nextBytes(key);
        return key;
    }
}
