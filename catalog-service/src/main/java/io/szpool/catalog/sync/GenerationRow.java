package io.szpool.catalog.sync;

import java.time.Instant;

/** A {@code sync_generation} row while a batch of events is applied to it in memory. */
public final class GenerationRow {
    /** The row's key. */
    public record Key(String poolId, String target, long generation) {}

    public final Key key;
    public String hostId;
    public String state;
    public Instant startedAt;
    public Instant finishedAt;
    public int chunksSynced;
    public long bytesSynced;
    public Integer chunks;
    public Long bytesTransferred;
    public Long durationMs;
    public String reason;

    public GenerationRow(Key key) {
        this.key = key;
    }
}
