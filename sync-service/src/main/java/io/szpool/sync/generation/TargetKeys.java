package io.szpool.sync.generation;

import io.szpool.crypto.ChunkKeys;
import io.szpool.crypto.Hkdf;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.XtsKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import javax.security.auth.Destroyable;

/**
 * The keys a pool uses on its backup targets, all derived from the pool's master key: one that
 * encrypts manifests (AES-256-GCM) and one that names folders and files (HMAC-SHA256), so names are
 * stable across generations yet say nothing to anyone without the key.
 *
 * <p>The crypto library exposes master-key derivation only through {@link ChunkKeys}; we derive a
 * 64-byte root under a reserved pseudo chunk id (never a real chunk id: those are 32 hex digits)
 * and split it with HKDF under our own labels. A {@code MasterKey.derive(label)} in crypto would be
 * the cleaner door; see sync-service/DESIGN.md.
 */
public final class TargetKeys implements Destroyable, AutoCloseable {

    static final String ROOT_ID = "szpool sync root v1";
    private static final byte[] MANIFEST_INFO =
            "szpool sync manifest key v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NAME_INFO =
            "szpool sync name key v1".getBytes(StandardCharsets.US_ASCII);

    private final byte[] manifestKey;
    private final byte[] nameKey;
    private final String keyId;
    private volatile boolean destroyed;

    private TargetKeys(byte[] manifestKey, byte[] nameKey, String keyId) {
        this.manifestKey = manifestKey;
        this.nameKey = nameKey;
        this.keyId = keyId;
    }

    public static TargetKeys of(MasterKey masterKey) {
        try (XtsKey root = ChunkKeys.derive(masterKey, ROOT_ID)) {
            byte[] ikm = root.bytes();
            try {
                byte[] prk = Hkdf.extract(new byte[0], ikm);
                try {
                    return new TargetKeys(
                            Hkdf.expand(prk, MANIFEST_INFO, 32),
                            Hkdf.expand(prk, NAME_INFO, 32),
                            masterKey.keyId());
                } finally {
                    Arrays.fill(prk, (byte) 0);
                }
            } finally {
                Arrays.fill(ikm, (byte) 0);
            }
        }
    }

    /** The master key's public id (as in ChunkCreated), to tell pools apart in reports. */
    public String keyId() {
        return keyId;
    }

    /** The folder of generation {@code n} on a target: 32 hex digits, stable, opaque. */
    public String generationFolder(long generation) {
        return name("generation " + generation);
    }

    /** A chunk's file name, the same in every generation so rsync can link it. */
    public String chunkFile(String chunkId) {
        return name("chunk " + chunkId);
    }

    /**
     * A chunk's segment {@code k} (manifest format 2), the same in every generation so rsync can
     * link it. Opaque like every name: nothing says which segments form a chunk.
     */
    public String segmentFile(String chunkId, int segment) {
        return name("chunk " + chunkId + " segment " + segment);
    }

    /** The manifest's file name in generation {@code n}. */
    public String manifestFile(long generation) {
        return name("manifest " + generation);
    }

    byte[] manifestKey() {
        check();
        return manifestKey.clone();
    }

    private String name(String what) {
        check();
        byte[] mac = Hkdf.hmac(nameKey, what.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(mac, 0, 16);
    }

    private void check() {
        if (destroyed) {
            throw new IllegalStateException("these target keys were destroyed");
        }
    }

    @Override
    public void destroy() {
        Arrays.fill(manifestKey, (byte) 0);
        Arrays.fill(nameKey, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    public String toString() {
        return "TargetKeys[redacted]";
    }
}
