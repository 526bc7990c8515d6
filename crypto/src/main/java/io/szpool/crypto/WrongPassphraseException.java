package io.szpool.crypto;

/** The passphrase does not open the key slot. */
public final class WrongPassphraseException extends KeySlotException {
    private static final long serialVersionUID = 1L;

    public WrongPassphraseException(String message) {
        super(message);
    }
}
