package io.szpool.crypto;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Derives each chunk's AES-256-XTS key from the pool's master key: HKDF-SHA256 with the chunk id
 * bound in the info, so equal plaintext in two chunks never gives equal ciphertext and one chunk
 * key handed to {@code cryptsetup} reveals no other.
 */
public final class ChunkKeys {

    /** Versioned label: a different derivation later gets a new label, old chunks keep theirs. */
    private static final byte[] LABEL =
            "szpool chunk xts key v1".getBytes(StandardCharsets.US_ASCII);

    private ChunkKeys() {}

    /** The chunk's 512-bit XTS key; the caller closes it when done. */
    public static XtsKey derive(MasterKey masterKey, String chunkId) {
        if (chunkId == null || chunkId.isBlank()) {
            throw new IllegalArgumentException("a chunk id is required to derive its key");
        }
        // The zero byte separates label from id, so no id can be read as a longer label.
        ByteArrayOutputStream info = new ByteArrayOutputStream();
        info.writeBytes(LABEL);
        info.write(0);
        info.writeBytes(chunkId.getBytes(StandardCharsets.UTF_8));
        byte[] master = masterKey.bytes();
        byte[] okm = Hkdf.derive(new byte[0], master, info.toByteArray(), XtsKey.LENGTH);
        try {
            return XtsKey.of(okm);
        } finally {
            Arrays.fill(master, (byte) 0);
            Arrays.fill(okm, (byte) 0);
        }
    }
}
