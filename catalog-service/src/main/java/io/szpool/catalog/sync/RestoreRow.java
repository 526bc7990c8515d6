package io.szpool.catalog.sync;

import java.time.Instant;

/** A {@code restore} row while a batch of events is applied to it in memory. */
public final class RestoreRow {
    /** The row's key. */
    public record Key(String poolId, String hostId, long generation) {}

    public final Key key;
    public String target;
    public String state;
    public Instant startedAt;
    public Instant finishedAt;
    public int chunksRestored;
    public int chunksRepaired;
    public Long durationMs;

    public RestoreRow(Key key) {
        this.key = key;
    }
}
