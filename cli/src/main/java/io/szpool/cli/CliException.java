package io.szpool.cli;

/** A failure the user can act on: printed as one line, with its exit code. */
public class CliException extends RuntimeException {
    /** Something failed that none of the codes below names. */
    public static final int FAILED = 1;

    /** The command line or the request was wrong (picocli's usage errors, HTTP 400). */
    public static final int BAD_INPUT = 2;

    /** A service or the broker did not answer. */
    public static final int UNREACHABLE = 3;

    /** What the command names does not exist (HTTP 404). */
    public static final int NOT_FOUND = 4;

    /** The thing exists but is in the wrong state for this (HTTP 409). */
    public static final int CONFLICT = 5;

    private final int exitCode;

    public CliException(String message) {
        this(message, FAILED);
    }

    public CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
