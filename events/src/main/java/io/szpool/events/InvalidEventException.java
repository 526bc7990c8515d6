package io.szpool.events;

/** A record that cannot become an event: unknown type, bad JSON, or a required field missing. */
public class InvalidEventException extends RuntimeException {
    public InvalidEventException(String message) {
        super(message);
    }

    public InvalidEventException(String message, Throwable cause) {
        super(message, cause);
    }
}
