package io.szpool.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Reads JSON that earlier versions of the records wrote (kept under {@code compat/v1/}, one file
 * per type, never edited) and checks that today's records still read it without losing a field. A
 * change that renames, retypes or requires a field fails here, before a consumer breaks in
 * production.
 */
class CompatibilityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Class<? extends Event>> allTypes() {
        return EventTypes.all().stream();
    }

    @ParameterizedTest
    @MethodSource("allTypes")
    void readsWhatTheFirstVersionWrote(Class<? extends Event> eventClass) throws IOException {
        String type = EventTypes.typeOf(eventClass);
        String old = sample(type);
        Event event = EventCodec.fromJson(type, old);
        JsonNode written = JSON.readTree(old);
        JsonNode now = JSON.readTree(EventCodec.toJson(event));
        for (Iterator<Map.Entry<String, JsonNode>> it = written.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            assertEquals(field.getValue(), now.get(field.getKey()), type + "." + field.getKey());
        }
    }

    private static String sample(String type) throws IOException {
        try (InputStream in = CompatibilityTest.class.getResourceAsStream(resource(type))) {
            assertNotNull(
                    in,
                    "no compatibility sample for "
                            + type
                            + ": run ./mvnw -pl events test -Dszpool.events.writeSamples=true"
                            + " once, when the type is new, and commit the file");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String resource(String type) {
        return "/compat/v1/" + type + ".json";
    }

    /** Writes samples for types that have none yet; existing samples are history and stay. */
    @Test
    @EnabledIfSystemProperty(named = "szpool.events.writeSamples", matches = "true")
    void writeMissingSamples() throws IOException {
        Path dir = Path.of("src/test/resources/compat/v1");
        Files.createDirectories(dir);
        for (Class<? extends Event> c : EventTypes.all()) {
            Path file = dir.resolve(EventTypes.typeOf(c) + ".json");
            if (!Files.exists(file)) {
                JsonNode tree = JSON.readTree(EventCodec.toJson(Samples.of(c)));
                Files.writeString(
                        file,
                        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tree) + "\n");
            }
        }
    }
}
