package io.szpool.nbd;

import java.io.IOException;

/**
 * An I/O failure that carries an NBD error value: thrown by {@link NbdClient} when the server
 * replies with an error, and thrown by a {@link BlockDevice} to choose the error a server sends.
 */
public class NbdException extends IOException {
    private final NbdError error;

    public NbdException(NbdError error, String message) {
        super(error + ": " + message);
        this.error = error;
    }

    public NbdError error() {
        return error;
    }
}
