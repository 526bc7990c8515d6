package io.szpool.device.chunk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The free-space rule and the parsing of {@code du -ak}. */
class ChunkFilesTest {
    static final long GIB = 1L << 30;
    static final Path FOLDER = Path.of("/data/chunks");

    @Test
    void spacePromisedToSparseChunksIsNotOfferedAgain() {
        ChunkSpec six = new ChunkSpec("p", 6, GIB, true);
        assertNull(ChunkFiles.shortage(six, FOLDER, 10 * GIB, 0), "fits in free space alone");
        String refused = ChunkFiles.shortage(six, FOLDER, 10 * GIB, 5 * GIB);
        assertTrue(refused.contains("6 chunks of 1.0 GiB need 6.0 GiB"), refused);
        assertTrue(refused.contains("has 10.0 GiB free, of which 5.0 GiB may still be"), refused);
        assertTrue(refused.endsWith(": 1.0 GiB missing"), refused);
        assertNull(ChunkFiles.shortage(six, FOLDER, 10 * GIB, 4 * GIB), "exactly fits");
        String over = ChunkFiles.shortage(six, FOLDER, 10 * GIB, 20 * GIB);
        assertTrue(over.endsWith(": 6.0 GiB missing"), "promises beyond free space: " + over);
    }

    @Test
    void parsesDuInKilobytesPerFile() {
        Map<Path, Long> allocated =
                ChunkFiles.parseDu(
                        "0\t/data/chunks/aa\n"
                                + "65540\t/data/chunks/bb\n"
                                + "65544\t/data/chunks\n"
                                + "du: cannot read directory '/x': Permission denied\n");
        assertEquals(0L, allocated.get(Path.of("/data/chunks/aa")));
        assertEquals(65540L * 1024, allocated.get(Path.of("/data/chunks/bb")));
        assertEquals(3, allocated.size());
    }
}
