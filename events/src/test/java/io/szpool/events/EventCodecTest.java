package io.szpool.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.events.DeviceEvent.ChunkCreated;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EventCodecTest {

    static Stream<Class<? extends Event>> allTypes() {
        return EventTypes.all().stream();
    }

    @ParameterizedTest
    @MethodSource("allTypes")
    void everyTypeRoundTrips(Class<? extends Event> eventClass) {
        Event event = Samples.of(eventClass);
        String json = EventCodec.toJson(event);
        assertEquals(event, EventCodec.fromJson(EventTypes.typeOf(eventClass), json));
    }

    @Test
    void registryCoversEveryRecordWithDistinctWellFormedTypes() {
        Set<String> seen = new HashSet<>();
        for (Class<? extends Event> c : EventTypes.all()) {
            String type = EventTypes.typeOf(c);
            assertTrue(type.matches("io\\.szpool\\.[a-z-]+\\.[a-z-]+\\.v[0-9]+"), type);
            assertTrue(seen.add(type), "duplicate " + type);
            assertEquals(c, EventTypes.classOf(type).orElseThrow());
        }
        // 5 device + 8 pool + 8 sync events (SPEC.md's 7 and RestoreFailed) + 4 commands.
        assertEquals(25, seen.size());
    }

    @Test
    void topicsFollowTheFamilies() {
        assertEquals(Topics.DEVICE_EVENTS, EventTypes.topicOf(ChunkCreated.class));
        assertEquals(Topics.POOL_EVENTS, EventTypes.topicOf(PoolEvent.PoolGrown.class));
        assertEquals(Topics.SYNC_EVENTS, EventTypes.topicOf(SyncEvent.ChunkSynced.class));
        assertEquals(Topics.COMMANDS, EventTypes.topicOf(Command.ProvisionChunks.class));
    }

    @Test
    void wireNamesAreThoseOfTheSpec() {
        String json = EventCodec.toJson(Samples.of(PoolEvent.PoolGrown.class));
        assertTrue(json.contains("\"layout\":\"raidz2\""), json);
        assertTrue(json.contains("\"trigger\":\"capacity-alert\""), json);
        String chunk = EventCodec.toJson(Samples.of(ChunkCreated.class));
        assertTrue(chunk.contains("\"cipher\":\"aes-256-cbc\""), chunk);
        assertTrue(chunk.contains("\"driver\":\"solaris\""), chunk);
    }

    @Test
    void wireNameOfAVocabularyValue() {
        assertEquals("aes-xts-plain64", EventCodec.wireName(Vocabulary.Cipher.AES_XTS_PLAIN64));
        assertEquals("DEGRADED", EventCodec.wireName(Vocabulary.Health.DEGRADED));
    }

    @Test
    void unknownFieldsAreIgnoredSoSchemasCanGrow() {
        String json = EventCodec.toJson(Samples.of(ChunkCreated.class));
        String newer = json.replaceFirst("\\{", "{\"addedLater\":{\"x\":1},");
        assertEquals(
                Samples.of(ChunkCreated.class),
                EventCodec.fromJson(EventTypes.typeOf(ChunkCreated.class), newer));
    }

    @Test
    void unknownTypeIsRejectedWithItsName() {
        InvalidEventException e =
                assertThrows(
                        InvalidEventException.class,
                        () -> EventCodec.fromJson("io.szpool.chunk.exploded.v1", "{}"));
        assertTrue(e.getMessage().contains("unknown event type io.szpool.chunk.exploded.v1"));
    }

    @Test
    void missingTypeIsRejected() {
        assertThrows(InvalidEventException.class, () -> EventCodec.fromJson((String) null, "{}"));
    }

    @Test
    void malformedJsonIsRejectedWithAReason() {
        String type = EventTypes.typeOf(ChunkCreated.class);
        InvalidEventException e =
                assertThrows(
                        InvalidEventException.class,
                        () -> EventCodec.fromJson(type, "{\"chunkId\": \"c1\","));
        assertTrue(e.getMessage().startsWith("ChunkCreated: malformed JSON"), e.getMessage());
        assertThrows(InvalidEventException.class, () -> EventCodec.fromJson(type, ""));
        assertThrows(InvalidEventException.class, () -> EventCodec.fromJson(type, "[1,2]"));
        assertThrows(InvalidEventException.class, () -> EventCodec.fromJson(type, "{} {}"));
    }

    @Test
    void missingRequiredFieldIsNamed() {
        String json = EventCodec.toJson(Samples.of(ChunkCreated.class)).replace("chunkId", "x");
        InvalidEventException e =
                assertThrows(
                        InvalidEventException.class,
                        () -> EventCodec.fromJson(EventTypes.typeOf(ChunkCreated.class), json));
        assertEquals("ChunkCreated: chunkId is required", e.getMessage());
    }

    @Test
    void negativeSizeIsRejected() {
        String json =
                EventCodec.toJson(Samples.of(ChunkCreated.class))
                        .replace("\"sizeBytes\":1073741824", "\"sizeBytes\":-1");
        InvalidEventException e =
                assertThrows(
                        InvalidEventException.class,
                        () -> EventCodec.fromJson(EventTypes.typeOf(ChunkCreated.class), json));
        assertFalse(e.getMessage().isBlank());
    }
}
