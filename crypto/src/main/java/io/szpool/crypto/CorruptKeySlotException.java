package io.szpool.crypto;

/** The bytes are not a key slot any more: truncated, padded, or damaged beyond its redundancy. */
public final class CorruptKeySlotException extends KeySlotException {
    private static final long serialVersionUID = 1L;

    public CorruptKeySlotException(String message) {
        super(message);
    }
}
