package io.szpool.device.driver;

import java.io.IOException;

/**
 * A system command that did not succeed: it exited non-zero, timed out or could not start. The
 * message names the command line (paths and options only: secrets never travel there) and its
 * stderr.
 */
public class CommandFailedException extends IOException {
    private final int exitCode;

    public CommandFailedException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public CommandFailedException(String message, Throwable cause) {
        super(message, cause);
        this.exitCode = -1;
    }

    /** The exit status, or -1 when the command did not run to its end. */
    public int exitCode() {
        return exitCode;
    }
}
