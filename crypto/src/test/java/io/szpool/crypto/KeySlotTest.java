package io.szpool.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeySlotTest {

    /**
     * Cheap Argon2 so the suite stays fast; {@link #productionFormatRoundTrips} covers the real
     * one.
     */
    private static final KeySlotFormat FAST = new KeySlotFormat(1, 256, 1, 1);

    private static final char[] PASSPHRASE = "correct horse battery staple".toCharArray();

    @TempDir Path dir;

    private static KeySlot reopen(KeySlot slot) throws CorruptKeySlotException {
        return KeySlot.fromBytes(slot.toBytes(), FAST);
    }

    @Test
    void unlocksTheSameMasterKey() throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            KeySlot slot = reopen(KeySlot.seal(master, PASSPHRASE, FAST));
            KeySlot.Unlocked unlocked = slot.unlock(PASSPHRASE);
            assertTrue(unlocked.masterKey().sameKeyAs(master));
            assertFalse(unlocked.damaged());
        }
    }

    @Test
    void productionFormatRoundTrips() throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            KeySlot slot = KeySlot.fromBytes(KeySlot.seal(master, PASSPHRASE).toBytes());
            assertEquals(152, slot.toBytes().length);
            assertTrue(slot.unlock(PASSPHRASE).masterKey().sameKeyAs(master));
            assertThrows(WrongPassphraseException.class, () -> slot.unlock("nope".toCharArray()));
        }
    }

    @Test
    void wrongPassphraseIsAClearError() throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            KeySlot slot = KeySlot.seal(master, PASSPHRASE, FAST);
            WrongPassphraseException e =
                    assertThrows(
                            WrongPassphraseException.class,
                            () -> slot.unlock("correct horse battery stapler".toCharArray()));
            assertTrue(e.getMessage().contains("wrong passphrase"), e.getMessage());
        }
    }

    @Test
    void everySingleFlippedByteIsDetectedAndSurvived() throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            byte[] good = KeySlot.seal(master, PASSPHRASE, FAST).toBytes();
            for (int i = 0; i < good.length; i++) {
                byte[] bad = good.clone();
                bad[i] ^= 0x01;
                KeySlot.Unlocked unlocked = KeySlot.fromBytes(bad, FAST).unlock(PASSPHRASE);
                assertTrue(unlocked.damaged(), "flip at byte " + i + " went unnoticed");
                assertTrue(unlocked.masterKey().sameKeyAs(master), "flip at byte " + i);
            }
        }
    }

    @Test
    void bothCopiesDamagedIsNeverGarbage() throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            byte[] bad = KeySlot.seal(master, PASSPHRASE, FAST).toBytes();
            bad[40] ^= 0x01;
            bad[76 + 40] ^= 0x01;
            assertThrows(
                    WrongPassphraseException.class,
                    () -> KeySlot.fromBytes(bad, FAST).unlock(PASSPHRASE));
        }
    }

    @Test
    void truncatedOrPaddedSlotIsCorrupt(@TempDir Path tmp) throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            byte[] good = KeySlot.seal(master, PASSPHRASE, FAST).toBytes();
            CorruptKeySlotException e =
                    assertThrows(
                            CorruptKeySlotException.class,
                            () -> KeySlot.fromBytes(Arrays.copyOf(good, 151)));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            Path file = tmp.resolve("slot");
            Files.write(file, Arrays.copyOf(good, 200));
            assertThrows(CorruptKeySlotException.class, () -> KeySlot.read(file));
        }
    }

    @Test
    void copiesHoldingDifferentKeysAreCorrupt() throws Exception {
        try (MasterKey one = MasterKey.generate();
                MasterKey two = MasterKey.generate()) {
            byte[] a = KeySlot.seal(one, PASSPHRASE, FAST).toBytes();
            byte[] b = KeySlot.seal(two, PASSPHRASE, FAST).toBytes();
            System.arraycopy(b, 76, a, 76, 76);
            assertThrows(
                    CorruptKeySlotException.class,
                    () -> KeySlot.fromBytes(a, FAST).unlock(PASSPHRASE));
        }
    }

    @Test
    void passphraseChangeKeepsTheMasterKey() throws Exception {
        char[] newPassphrase = "tr0ub4dor&3".toCharArray();
        try (MasterKey master = MasterKey.generate();
                XtsKey chunkKey = ChunkKeys.derive(master, "c-42")) {
            KeySlot old = KeySlot.seal(master, PASSPHRASE, FAST);
            KeySlot changed = reopen(old.changePassphrase(PASSPHRASE, newPassphrase));
            assertThrows(WrongPassphraseException.class, () -> changed.unlock(PASSPHRASE));
            try (MasterKey reopened = changed.unlock(newPassphrase).masterKey();
                    XtsKey again = ChunkKeys.derive(reopened, "c-42")) {
                assertEquals(chunkKey.hex(), again.hex());
            }
            assertThrows(
                    WrongPassphraseException.class,
                    () -> old.changePassphrase(newPassphrase, PASSPHRASE));
        }
    }

    @Test
    void sameInputsNeverGiveTheSameSlot() throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            assertNotEquals(
                    HexFormat.of().formatHex(KeySlot.seal(master, PASSPHRASE, FAST).toBytes()),
                    HexFormat.of().formatHex(KeySlot.seal(master, PASSPHRASE, FAST).toBytes()));
        }
    }

    @Test
    void slotBytesShowNoStructure() throws Exception {
        // What a backup target holding the slot could look for: the passphrase, the key, any
        // label text (needles of 4 bytes or more, so chance matches stay below 1e-5), repeated
        // material, or a skewed byte distribution.
        MasterKey master = MasterKey.generate();
        byte[] raw = master.bytes();
        int[] counts = new int[256];
        int samples = 64;
        for (int s = 0; s < samples; s++) {
            byte[] slot = KeySlot.seal(master, PASSPHRASE, FAST).toBytes();
            String latin = new String(slot, StandardCharsets.ISO_8859_1);
            for (String needle :
                    List.of(
                            new String(PASSPHRASE),
                            "szpool",
                            "slot",
                            "copy",
                            new String(raw, StandardCharsets.ISO_8859_1).substring(0, 4))) {
                assertFalse(latin.contains(needle), "slot contains " + needle);
            }
            assertFalse(
                    latin.substring(0, 76).contains(latin.substring(76, 76 + 8)),
                    "the two copies share material");
            for (byte b : slot) {
                counts[b & 0xff]++;
            }
        }
        // Chi-squared over byte values, 255 degrees of freedom: random data stays under 330 with
        // probability > 0.999; text, headers or zero padding blow far past it.
        double expected = samples * 152 / 256.0;
        double chi2 = 0;
        for (int count : counts) {
            chi2 += (count - expected) * (count - expected) / expected;
        }
        assertTrue(chi2 < 330, "byte distribution is not uniform: chi2 = " + chi2);
    }

    @Test
    void writesTheFileWithMode0600AndReadsItBack() throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            Path file = dir.resolve("pool.keyslot");
            KeySlot slot = KeySlot.seal(master, PASSPHRASE, FAST);
            slot.write(file);
            assertEquals(
                    Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                    Files.getPosixFilePermissions(file));
            assertArrayEquals(slot.toBytes(), KeySlot.read(file).toBytes());

            // Rewriting replaces it whole and leaves no temp file behind.
            KeySlot rewrapped = slot.changePassphrase(PASSPHRASE, "other".toCharArray());
            rewrapped.write(file);
            assertArrayEquals(rewrapped.toBytes(), Files.readAllBytes(file));
            try (var files = Files.list(dir)) {
                assertEquals(List.of(file), files.toList());
            }
        }
    }

    @Test
    void emptyPassphraseIsRefused() {
        try (MasterKey master = MasterKey.generate()) {
            assertThrows(
                    IllegalArgumentException.class, () -> KeySlot.seal(master, new char[0], FAST));
        }
    }

    @Test
    void decomposedAndComposedPassphrasesAreTheSame() throws Exception {
        try (MasterKey master = MasterKey.generate()) {
            KeySlot slot = KeySlot.seal(master, "caf\u00e9".toCharArray(), FAST);
            assertTrue(slot.unlock("cafe\u0301".toCharArray()).masterKey().sameKeyAs(master));
        }
    }

    @Test
    void toStringsHoldNoSecrets() throws IOException {
        try (MasterKey master = MasterKey.generate()) {
            KeySlot slot = KeySlot.seal(master, PASSPHRASE, FAST);
            String hex = HexFormat.of().formatHex(slot.toBytes());
            assertFalse(slot.toString().contains(hex.substring(0, 8)));
            assertFalse(master.toString().contains(HexFormat.of().formatHex(master.bytes(), 0, 4)));
        }
    }
}
