package io.szpool.sync.generation;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The manifest file: {@code keySlot(152) || nonce(12) || AES-256-GCM(manifest key, JSON) ||
 * tag(16)}. The key slot travels in front so that a restore needs only the target and the
 * passphrase: the passphrase opens the slot, the master key gives the manifest key. No magic, no
 * version field: every byte is random-looking to anyone without the passphrase. The length is never
 * a multiple of 4096, which is how a restore tells a manifest from a chunk image (always whole 4
 * KiB units) before it has any key.
 */
public final class ManifestCodec {

    public static final int SLOT_LENGTH = 152;
    static final int NONCE_LENGTH = 12;
    static final int TAG_LENGTH = 16;
    static final int UNIT = 4096;

    /** Bound but never stored: a manifest cannot be read as anything else, or as another format. */
    private static final byte[] AAD = "szpool sync manifest v1".getBytes(StandardCharsets.US_ASCII);

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON =
            JsonMapper.builder()
                    .addModule(new JavaTimeModule())
                    .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .build();

    private ManifestCodec() {}

    /** Whether a file of this size can be a manifest (and not a chunk image). */
    public static boolean couldBeManifest(long size) {
        return size > SLOT_LENGTH + NONCE_LENGTH + TAG_LENGTH
                && size % UNIT != 0
                && size < 64L * 1024 * 1024;
    }

    public static byte[] seal(Manifest manifest, byte[] keySlot, TargetKeys keys) {
        if (keySlot.length != SLOT_LENGTH) {
            throw new IllegalArgumentException("a key slot is " + SLOT_LENGTH + " bytes");
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(manifest);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a manifest", e);
        }
        int length = SLOT_LENGTH + NONCE_LENGTH + json.length + TAG_LENGTH;
        if (length % UNIT == 0) {
            // JSON allows trailing white space; one byte keeps the file off the 4 KiB grid.
            json = Arrays.copyOf(json, json.length + 1);
            json[json.length - 1] = ' ';
            length++;
        }
        byte[] out = new byte[length];
        System.arraycopy(keySlot, 0, out, 0, SLOT_LENGTH);
        byte[] nonce = new byte[NONCE_LENGTH];
        RANDOM.nextBytes(nonce);
        System.arraycopy(nonce, 0, out, SLOT_LENGTH, NONCE_LENGTH);
        byte[] key = keys.manifestKey();
        try {
            Cipher gcm = gcm(Cipher.ENCRYPT_MODE, key, nonce);
            gcm.doFinal(json, 0, json.length, out, SLOT_LENGTH + NONCE_LENGTH);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to seal a manifest", e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
        return out;
    }

    /** The key slot at the head of a manifest file. */
    public static byte[] keySlot(byte[] file) {
        return Arrays.copyOf(file, SLOT_LENGTH);
    }

    /**
     * Opens a manifest file.
     *
     * @throws ManifestException if the file is not a manifest under these keys (another pool's, a
     *     damaged one, or no manifest at all): GCM cannot tell these apart
     */
    public static Manifest open(byte[] file, TargetKeys keys) throws ManifestException {
        if (!couldBeManifest(file.length)) {
            throw new ManifestException("not a manifest: " + file.length + " bytes");
        }
        byte[] nonce = Arrays.copyOfRange(file, SLOT_LENGTH, SLOT_LENGTH + NONCE_LENGTH);
        byte[] key = keys.manifestKey();
        try {
            Cipher gcm = gcm(Cipher.DECRYPT_MODE, key, nonce);
            byte[] json =
                    gcm.doFinal(
                            file,
                            SLOT_LENGTH + NONCE_LENGTH,
                            file.length - SLOT_LENGTH - NONCE_LENGTH);
            Manifest m = JSON.readValue(json, Manifest.class);
            if (m.format() != Manifest.FORMAT && m.format() != Manifest.FORMAT_WHOLE_IMAGES) {
                throw new ManifestException("manifest format " + m.format() + " is not known here");
            }
            return m;
        } catch (AEADBadTagException e) {
            throw new ManifestException("not a manifest of this pool, or damaged");
        } catch (GeneralSecurityException | IOException e) {
            throw new ManifestException("unreadable manifest: " + e.getMessage());
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private static Cipher gcm(int mode, byte[] key, byte[] nonce) throws GeneralSecurityException {
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_LENGTH * 8, nonce));
        gcm.updateAAD(AAD);
        return gcm;
    }

    /** A file that does not open as a manifest under the keys at hand. */
    public static class ManifestException extends Exception {
        public ManifestException(String message) {
            super(message);
        }
    }
}
