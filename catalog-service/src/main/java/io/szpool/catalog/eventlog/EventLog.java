package io.szpool.catalog.eventlog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The audit trail's payloads: stored as the event's JSON, served as a JSON tree. */
public final class EventLog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EventLog() {}

    public static JsonNode json(String payload) {
        try {
            return JSON.readTree(payload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
