package io.szpool.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * JSON for events, the one place that knows how a record looks on the wire. Readers ignore fields
 * they do not know, because schemas evolve by adding optional fields.
 */
public final class EventCodec {
    private static final ObjectMapper MAPPER =
            JsonMapper.builder()
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .serializationInclusion(JsonInclude.Include.NON_NULL)
                    .build();

    private EventCodec() {}

    public static String toJson(Event event) {
        try {
            return MAPPER.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + event.getClass().getSimpleName(), e);
        }
    }

    /** How a vocabulary value is spelled on the wire, e.g. {@code aes-xts-plain64}. */
    public static String wireName(Enum<?> value) {
        return MAPPER.convertValue(value, String.class);
    }

    /** Reads the payload of a record whose CloudEvents type is {@code type}. */
    public static Event fromJson(String type, String json) {
        if (type == null || type.isBlank()) {
            throw new InvalidEventException("no CloudEvents type (ce_type header missing)");
        }
        Class<? extends Event> eventClass =
                EventTypes.classOf(type)
                        .orElseThrow(() -> new InvalidEventException("unknown event type " + type));
        return fromJson(eventClass, json);
    }

    public static <E extends Event> E fromJson(Class<E> eventClass, String json) {
        String name = eventClass.getSimpleName();
        if (json == null || json.isBlank()) {
            throw new InvalidEventException(name + ": empty payload");
        }
        try {
            return MAPPER.readValue(json, eventClass);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new InvalidEventException(name + ": " + cause.getMessage(), e);
        } catch (JsonProcessingException e) {
            throw new InvalidEventException(
                    name + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
    }
}
