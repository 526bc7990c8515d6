package io.szpool.events;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registry of every record type, read once from the sealed hierarchy: adding a record to a
 * family registers it, and no type string is written twice.
 */
public final class EventTypes {
    private static final Map<String, Class<? extends Event>> BY_TYPE;
    private static final Map<Class<? extends Event>, String> TYPE_OF;
    private static final Map<Class<? extends Event>, String> TOPIC_OF;

    static {
        Map<String, Class<? extends Event>> byType = new LinkedHashMap<>();
        Map<Class<? extends Event>, String> typeOf = new LinkedHashMap<>();
        Map<Class<? extends Event>, String> topicOf = new LinkedHashMap<>();
        for (Class<?> family : Event.class.getPermittedSubclasses()) {
            Topic topic = family.getAnnotation(Topic.class);
            if (topic == null) {
                throw new IllegalStateException(family.getName() + " has no @Topic");
            }
            for (Class<?> record : family.getPermittedSubclasses()) {
                EventType type = record.getAnnotation(EventType.class);
                if (type == null) {
                    throw new IllegalStateException(record.getName() + " has no @EventType");
                }
                @SuppressWarnings("unchecked")
                Class<? extends Event> eventClass = (Class<? extends Event>) record;
                if (byType.put(type.value(), eventClass) != null) {
                    throw new IllegalStateException("type " + type.value() + " used twice");
                }
                typeOf.put(eventClass, type.value());
                topicOf.put(eventClass, topic.value());
            }
        }
        BY_TYPE = Collections.unmodifiableMap(byType);
        TYPE_OF = Collections.unmodifiableMap(typeOf);
        TOPIC_OF = Collections.unmodifiableMap(topicOf);
    }

    private EventTypes() {}

    /** The CloudEvents type of a record class. */
    public static String typeOf(Class<? extends Event> eventClass) {
        String type = TYPE_OF.get(eventClass);
        if (type == null) {
            throw new IllegalArgumentException(eventClass.getName() + " is not an szpool event");
        }
        return type;
    }

    /** The topic a record class travels on. */
    public static String topicOf(Class<? extends Event> eventClass) {
        String topic = TOPIC_OF.get(eventClass);
        if (topic == null) {
            throw new IllegalArgumentException(eventClass.getName() + " is not an szpool event");
        }
        return topic;
    }

    /** The record class of a CloudEvents type, if szpool knows it. */
    public static Optional<Class<? extends Event>> classOf(String type) {
        return Optional.ofNullable(BY_TYPE.get(type));
    }

    /** Every record class, families in declaration order. */
    public static List<Class<? extends Event>> all() {
        return new ArrayList<>(TYPE_OF.keySet());
    }
}
