package io.szpool.crypto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * A pool's master key wrapped under the operator's passphrase: 152 bytes that look random to anyone
 * without the passphrase.
 *
 * <p>Layout (format version 1): two independent copies, each {@code salt(16) || nonce(12) ||
 * AES-256-GCM(wrapping key, master key)(32 + 16 tag)}, the wrapping key being Argon2id of the
 * passphrase under that copy's salt. There is no magic, no version field, no length field: salts,
 * nonces and GCM output are all uniformly random to an outsider. The reader tells the format by the
 * slot's length (see {@link KeySlotFormat}).
 *
 * <p>Two copies because a GCM failure cannot tell a wrong passphrase from a flipped bit: with two,
 * a damaged copy shows up as "one opened, one did not" (the slot still unlocks and asks for
 * repair), and only a passphrase that opens neither is called wrong.
 */
public final class KeySlot {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int GCM_TAG_BITS = KeySlotFormat.TAG_LENGTH * 8;

    private final KeySlotFormat format;
    private final byte[] bytes;

    private KeySlot(KeySlotFormat format, byte[] bytes) {
        this.format = format;
        this.bytes = bytes;
    }

    /**
     * The outcome of {@link #unlock}: the key, and whether one copy was damaged and the slot should
     * be rewritten.
     */
    public record Unlocked(MasterKey masterKey, boolean damaged) {}

    /** Wraps {@code masterKey} under {@code passphrase} with fresh salts and nonces. */
    public static KeySlot seal(MasterKey masterKey, char[] passphrase) {
        return seal(masterKey, passphrase, KeySlotFormat.V1);
    }

    static KeySlot seal(MasterKey masterKey, char[] passphrase, KeySlotFormat format) {
        byte[] slot = new byte[KeySlotFormat.SLOT_LENGTH];
        RANDOM.nextBytes(slot);
        byte[][] salts = new byte[KeySlotFormat.COPIES][];
        for (int copy = 0; copy < KeySlotFormat.COPIES; copy++) {
            salts[copy] =
                    Arrays.copyOfRange(
                            slot, copyOffset(copy), copyOffset(copy) + KeySlotFormat.SALT_LENGTH);
        }
        byte[][] wrappingKeys = wrappingKeys(format, passphrase, salts);
        byte[] plain = masterKey.bytes();
        try {
            for (int copy = 0; copy < KeySlotFormat.COPIES; copy++) {
                int at = copyOffset(copy) + KeySlotFormat.SALT_LENGTH;
                byte[] nonce = Arrays.copyOfRange(slot, at, at + KeySlotFormat.NONCE_LENGTH);
                Cipher gcm = gcm(Cipher.ENCRYPT_MODE, wrappingKeys[copy], nonce, format, copy);
                gcm.doFinal(plain, 0, plain.length, slot, at + KeySlotFormat.NONCE_LENGTH);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to wrap the master key", e);
        } finally {
            Arrays.fill(plain, (byte) 0);
            wipe(wrappingKeys);
        }
        return new KeySlot(format, slot);
    }

    /**
     * A slot from its serialized bytes; checks only what can be checked without the passphrase: the
     * length.
     */
    public static KeySlot fromBytes(byte[] bytes) throws CorruptKeySlotException {
        return fromBytes(bytes, KeySlotFormat.V1);
    }

    static KeySlot fromBytes(byte[] bytes, KeySlotFormat format) throws CorruptKeySlotException {
        if (bytes.length != KeySlotFormat.SLOT_LENGTH) {
            throw new CorruptKeySlotException(
                    "a key slot is "
                            + KeySlotFormat.SLOT_LENGTH
                            + " bytes, this one is "
                            + bytes.length
                            + ": it is truncated, padded or not a key slot");
        }
        return new KeySlot(format, bytes.clone());
    }

    /** Reads a slot file written by {@link #write}. */
    public static KeySlot read(Path file) throws IOException, CorruptKeySlotException {
        long size = Files.size(file);
        if (size != KeySlotFormat.SLOT_LENGTH) {
            throw new CorruptKeySlotException(
                    "key slot "
                            + file
                            + " is "
                            + size
                            + " bytes, a key slot is "
                            + KeySlotFormat.SLOT_LENGTH
                            + ": it is truncated, padded or not a key slot");
        }
        return fromBytes(Files.readAllBytes(file));
    }

    /**
     * Writes the slot to {@code file} with mode 0600, atomically: a reader sees the old slot or the
     * new one, never a half-written file, even across a crash.
     */
    public void write(Path file) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path temp =
                Files.createTempFile(
                        dir,
                        ".keyslot-",
                        ".tmp",
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rw-------")));
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(
                        temp,
                        target,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + target + " atomically", e);
            }
            forceDirectory(dir);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** The serialized slot, a copy: safe to hand to a backup target. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /**
     * Unwraps the master key. Both copies are tried (in parallel, so a wrong passphrase costs one
     * Argon2 time, not two): one that opens is enough, and {@link Unlocked#damaged} says the other
     * did not.
     *
     * @throws WrongPassphraseException if neither copy opens
     * @throws CorruptKeySlotException if the copies open to different keys (a forged slot)
     */
    public Unlocked unlock(char[] passphrase)
            throws WrongPassphraseException, CorruptKeySlotException {
        byte[][] salts = new byte[KeySlotFormat.COPIES][];
        for (int copy = 0; copy < KeySlotFormat.COPIES; copy++) {
            salts[copy] =
                    Arrays.copyOfRange(
                            bytes, copyOffset(copy), copyOffset(copy) + KeySlotFormat.SALT_LENGTH);
        }
        byte[][] wrappingKeys = wrappingKeys(format, passphrase, salts);
        MasterKey[] opened = new MasterKey[KeySlotFormat.COPIES];
        try {
            for (int copy = 0; copy < KeySlotFormat.COPIES; copy++) {
                opened[copy] = open(copy, wrappingKeys[copy]);
            }
        } finally {
            wipe(wrappingKeys);
        }
        MasterKey first = opened[0] != null ? opened[0] : opened[1];
        if (first == null) {
            throw new WrongPassphraseException(
                    "wrong passphrase: it opens neither copy of the key slot");
        }
        if (opened[0] != null && opened[1] != null) {
            boolean same = opened[0].sameKeyAs(opened[1]);
            opened[1].destroy();
            if (!same) {
                opened[0].destroy();
                throw new CorruptKeySlotException(
                        "the two copies of the key slot hold different keys: the slot was tampered with");
            }
            return new Unlocked(opened[0], false);
        }
        return new Unlocked(first, true);
    }

    /**
     * A new slot holding the same master key under {@code newPassphrase}; chunk data is untouched.
     */
    public KeySlot changePassphrase(char[] oldPassphrase, char[] newPassphrase)
            throws WrongPassphraseException, CorruptKeySlotException {
        try (MasterKey masterKey = unlock(oldPassphrase).masterKey()) {
            return seal(masterKey, newPassphrase, format);
        }
    }

    @Override
    public String toString() {
        return "KeySlot[v" + format.version() + ", " + bytes.length + " bytes]";
    }

    private MasterKey open(int copy, byte[] wrappingKey) {
        int at = copyOffset(copy) + KeySlotFormat.SALT_LENGTH;
        byte[] nonce = Arrays.copyOfRange(bytes, at, at + KeySlotFormat.NONCE_LENGTH);
        byte[] plain = null;
        try {
            Cipher gcm = gcm(Cipher.DECRYPT_MODE, wrappingKey, nonce, format, copy);
            plain =
                    gcm.doFinal(
                            bytes,
                            at + KeySlotFormat.NONCE_LENGTH,
                            MasterKey.LENGTH + KeySlotFormat.TAG_LENGTH);
            return MasterKey.of(plain);
        } catch (AEADBadTagException e) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to unwrap the master key", e);
        } finally {
            if (plain != null) {
                Arrays.fill(plain, (byte) 0);
            }
        }
    }

    private static Cipher gcm(int mode, byte[] key, byte[] nonce, KeySlotFormat format, int copy)
            throws GeneralSecurityException {
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(GCM_TAG_BITS, nonce));
        gcm.updateAAD(format.associatedData(copy));
        return gcm;
    }

    /**
     * Argon2id for every copy at once, one thread each: the copies' salts differ, so the work does
     * too.
     */
    private static byte[][] wrappingKeys(KeySlotFormat format, char[] passphrase, byte[][] salts) {
        byte[] secret = passphraseBytes(passphrase);
        try {
            @SuppressWarnings("unchecked")
            CompletableFuture<byte[]>[] keys = new CompletableFuture[salts.length];
            for (int copy = 1; copy < salts.length; copy++) {
                byte[] salt = salts[copy];
                keys[copy] = new CompletableFuture<>();
                CompletableFuture<byte[]> key = keys[copy];
                Thread worker =
                        new Thread(
                                () -> {
                                    try {
                                        key.complete(argon2(format, secret, salt));
                                    } catch (RuntimeException | Error e) {
                                        key.completeExceptionally(e);
                                    }
                                },
                                "szpool-keyslot-argon2");
                worker.setDaemon(true);
                worker.start();
            }
            keys[0] = CompletableFuture.completedFuture(argon2(format, secret, salts[0]));
            byte[][] result = new byte[salts.length][];
            for (int copy = 0; copy < salts.length; copy++) {
                result[copy] = keys[copy].get();
            }
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while deriving the wrapping key", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Argon2id failed", e.getCause());
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    private static byte[] argon2(KeySlotFormat format, byte[] secret, byte[] salt) {
        Argon2Parameters parameters =
                new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                        .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                        .withMemoryAsKB(format.memoryKiB())
                        .withIterations(format.iterations())
                        .withParallelism(format.parallelism())
                        .withSalt(salt)
                        .build();
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(parameters);
        byte[] key = new byte[32];
        generator.generateBytes(secret, key);
        return key;
    }

    /**
     * UTF-8 of the NFC form, so that the same passphrase typed on another system (macOS input
     * arrives decomposed) opens the slot. The normalizer needs a String, which cannot be wiped; the
     * byte copy is.
     */
    private static byte[] passphraseBytes(char[] passphrase) {
        if (passphrase == null || passphrase.length == 0) {
            throw new IllegalArgumentException("an empty passphrase cannot protect a key slot");
        }
        String normalized = Normalizer.normalize(CharBuffer.wrap(passphrase), Normalizer.Form.NFC);
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(normalized);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        if (encoded.hasArray()) {
            Arrays.fill(encoded.array(), (byte) 0);
        }
        return bytes;
    }

    private static int copyOffset(int copy) {
        return copy * KeySlotFormat.COPY_LENGTH;
    }

    private static void wipe(byte[][] keys) {
        for (byte[] key : keys) {
            if (key != null) {
                Arrays.fill(key, (byte) 0);
            }
        }
    }

    /**
     * Makes the rename itself durable; some file systems refuse to open a directory, which we
     * accept.
     */
    private static void forceDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Not durable on this file system; the slot file itself was forced before the move.
        }
    }
}
