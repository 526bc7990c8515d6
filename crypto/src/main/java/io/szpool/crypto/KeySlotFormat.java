package io.szpool.crypto;

import java.nio.charset.StandardCharsets;

/**
 * The fixed parameters of one key slot format version. Nothing of this is stored in a slot: a
 * reader knows the format by the slot's length, and the version is bound into the GCM associated
 * data so that a slot can never be read under the wrong version's parameters.
 *
 * @param memoryKiB Argon2id memory cost
 * @param iterations Argon2id time cost
 * @param parallelism Argon2id lanes
 */
record KeySlotFormat(int version, int memoryKiB, int iterations, int parallelism) {

    /**
     * Version 1: Argon2id m = 64 MiB, t = 3, p = 1 (RFC 9106's second recommended option lowered to
     * p = 1 because BouncyCastle computes lanes on one thread anyway); about 0.5 s per derivation
     * on a current x86 core.
     */
    static final KeySlotFormat V1 = new KeySlotFormat(1, 64 * 1024, 3, 1);

    static final int SALT_LENGTH = 16;
    static final int NONCE_LENGTH = 12;
    static final int TAG_LENGTH = 16;

    /** A slot holds the master key twice, each copy wrapped under its own salt. */
    static final int COPIES = 2;

    static final int COPY_LENGTH = SALT_LENGTH + NONCE_LENGTH + MasterKey.LENGTH + TAG_LENGTH;

    static final int SLOT_LENGTH = COPIES * COPY_LENGTH;

    byte[] associatedData(int copy) {
        return ("szpool key slot v" + version + " copy " + copy)
                .getBytes(StandardCharsets.US_ASCII);
    }
}
