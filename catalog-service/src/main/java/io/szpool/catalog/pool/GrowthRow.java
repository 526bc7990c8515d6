package io.szpool.catalog.pool;

import java.time.Instant;

/** A {@code pool_growth} row as PoolGrown states it. */
public record GrowthRow(
        String poolId,
        int vdevIndex,
        long sizeBytesBefore,
        long sizeBytesAfter,
        String trigger,
        Instant grownAt) {}
