package io.szpool.catalog.chunk;

/**
 * How authoritative a topic is for who owns a row (pool id, host id): the topic that owns the
 * aggregate wins, and a placeholder made by another topic never overwrites it, whatever arrives
 * first. Within one topic, events keep their order, so the later fact wins.
 */
public final class Rank {
    public static final int SYNC = 1;
    public static final int POOL = 2;
    public static final int DEVICE = 3;

    private Rank() {}
}
