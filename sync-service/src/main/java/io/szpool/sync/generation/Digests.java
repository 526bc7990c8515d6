package io.szpool.sync.generation;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** SHA-256 of chunk images and segments, the digests every manifest records. */
public final class Digests {
    private Digests() {}

    public static String sha256(Path file) throws IOException {
        MessageDigest digest = sha256();
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                digest.update(buffer);
                buffer.clear();
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * A segmented chunk's digest: SHA-256 over its segments' SHA-256 (raw 32 bytes each, in order).
     * Known from the segments alone, so a sync that reads only changed segments still records a
     * digest of the whole chunk.
     */
    public static String ofSegments(List<String> segmentSha256) {
        MessageDigest digest = sha256();
        for (String s : segmentSha256) {
            digest.update(HexFormat.of().parseHex(s));
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** A fresh SHA-256 digest. */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
