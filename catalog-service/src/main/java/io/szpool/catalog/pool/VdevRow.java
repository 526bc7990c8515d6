package io.szpool.catalog.pool;

import java.time.Instant;
import java.util.List;

/** A vdev as a pool event states it: its {@code vdev} row and its chunks in column order. */
public record VdevRow(
        String poolId, int vdevIndex, String layout, Instant addedAt, List<String> chunkIds) {}
