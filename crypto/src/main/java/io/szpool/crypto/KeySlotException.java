package io.szpool.crypto;

/** A key slot could not give up its master key; the subclasses say why. */
public class KeySlotException extends Exception {
    private static final long serialVersionUID = 1L;

    public KeySlotException(String message) {
        super(message);
    }
}
