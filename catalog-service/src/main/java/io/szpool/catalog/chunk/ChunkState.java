package io.szpool.catalog.chunk;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Where a chunk is in its life, as the catalog last heard. */
public enum ChunkState {
    PROVISIONED,
    ATTACHED,
    IN_POOL,
    FAULTED,
    DESTROYED;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Optional<ChunkState> parse(String wireName) {
        return Arrays.stream(values()).filter(s -> s.wireName().equals(wireName)).findFirst();
    }
}
