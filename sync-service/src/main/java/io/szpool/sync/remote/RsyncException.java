package io.szpool.sync.remote;

import java.io.IOException;

/** An rsync call failed for good (after its retries); the message is safe to publish. */
public class RsyncException extends IOException {
    private final int exitCode;

    public RsyncException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    /** rsync's exit status, or -1 when it did not run to an exit. */
    public int exitCode() {
        return exitCode;
    }
}
