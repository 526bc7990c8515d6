package io.szpool.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChunkKeysTest {

    private static final byte[] MASTER =
            HexFormat.of()
                    .parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    @Test
    void sameChunkIdGivesTheSameKeyEveryTime() {
        try (MasterKey master = MasterKey.of(MASTER);
                XtsKey first = ChunkKeys.derive(master, "c-0001");
                XtsKey again = ChunkKeys.derive(master, "c-0001")) {
            assertEquals(first.hex(), again.hex());
            assertEquals(128, first.hex().length());
        }
    }

    @Test
    void pinnedDerivationNeverChangesUnnoticed() {
        // Chunks written today must open with the key derived tomorrow: this value is the v1
        // derivation's output and changing it orphans every existing chunk.
        String expected =
                HexFormat.of()
                        .formatHex(
                                Hkdf.derive(
                                        new byte[0],
                                        MASTER,
                                        "szpool chunk xts key v1\0c-0001"
                                                .getBytes(StandardCharsets.UTF_8),
                                        64));
        try (MasterKey master = MasterKey.of(MASTER);
                XtsKey key = ChunkKeys.derive(master, "c-0001")) {
            assertEquals(expected, key.hex());
        }
    }

    @Test
    void differentChunksGetUnrelatedKeys() {
        Set<String> halves = new HashSet<>();
        try (MasterKey master = MasterKey.of(MASTER)) {
            for (int i = 0; i < 200; i++) {
                try (XtsKey key = ChunkKeys.derive(master, "chunk-" + i)) {
                    String hex = key.hex();
                    assertTrue(halves.add(hex.substring(0, 64)), "data key repeated");
                    assertTrue(halves.add(hex.substring(64)), "tweak key repeated");
                }
            }
        }
    }

    @Test
    void differentMasterKeysGiveDifferentChunkKeys() {
        try (MasterKey one = MasterKey.generate();
                MasterKey two = MasterKey.generate();
                XtsKey a = ChunkKeys.derive(one, "c-1");
                XtsKey b = ChunkKeys.derive(two, "c-1")) {
            assertNotEquals(a.hex(), b.hex());
        }
    }

    @Test
    void keyIdIsStableAndRevealsNoKeyBytes() {
        try (MasterKey master = MasterKey.of(MASTER)) {
            String id = master.keyId();
            assertEquals(16, id.length());
            assertEquals(id, MasterKey.of(MASTER).keyId());
            assertFalse(HexFormat.of().formatHex(MASTER).contains(id));
            assertFalse(master.toString().contains("0001020304"));
        }
    }

    @Test
    void refusesABlankChunkId() {
        try (MasterKey master = MasterKey.generate()) {
            assertThrows(IllegalArgumentException.class, () -> ChunkKeys.derive(master, " "));
        }
    }
}
