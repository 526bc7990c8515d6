package io.szpool.events;

/**
 * Anything szpool puts on a topic. Every event and command belongs to one pool, whose id is the
 * Kafka key, so all records of a pool stay in order on one partition.
 */
public sealed interface Event permits DeviceEvent, PoolEvent, SyncEvent, Command {

    /** The pool this record is about: the Kafka key and the CloudEvents subject. */
    String poolId();

    /** The host the record comes from (events) or is addressed to (commands). */
    String hostId();
}
