package io.szpool.events;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.List;

/** Builds a valid instance of any event record, field by field, so every new type is covered. */
final class Samples {
    private Samples() {}

    static Event of(Class<? extends Event> eventClass) {
        RecordComponent[] components = eventClass.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            values[i] = valueFor(components[i].getName(), components[i].getGenericType());
        }
        try {
            return eventClass.getDeclaredConstructor(types).newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot build a sample " + eventClass.getSimpleName(), e);
        }
    }

    private static Object valueFor(String name, Type type) {
        if (type == String.class) {
            return switch (name) {
                case "path" -> "/var/szpool/chunks/3f/3f2a9c";
                case "target" -> "rsync://backup.example.net/szpool/h1";
                case "deviceAddress" -> "nbd://127.0.0.1:10810/c-1";
                default -> name + "-1";
            };
        }
        if (type == long.class) {
            return 1L << 30;
        }
        if (type == Long.class) {
            return 1L << 20;
        }
        if (type == int.class) {
            return 6;
        }
        if (type == boolean.class) {
            return true;
        }
        if (type instanceof Class<?> c && c.isEnum()) {
            return c.getEnumConstants()[c.getEnumConstants().length - 1];
        }
        if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
            Type element = p.getActualTypeArguments()[0];
            return List.of(valueFor("c", element), valueFor("d", element));
        }
        throw new AssertionError("no sample value for " + type + " " + name);
    }
}
