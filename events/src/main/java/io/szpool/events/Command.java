package io.szpool.events;

import static io.szpool.events.Fields.list;
import static io.szpool.events.Fields.nonNegative;
import static io.szpool.events.Fields.positive;
import static io.szpool.events.Fields.required;

import io.szpool.events.Vocabulary.GrowthTrigger;
import java.util.List;

/**
 * Requests addressed to one host's service. {@code hostId} names the host that must act; every
 * other host ignores the command. {@code requestId} makes a redelivered command a no-op.
 */
@Topic(Topics.COMMANDS)
public sealed interface Command extends Event {

    /** The id that makes this command idempotent. */
    String requestId();

    /**
     * Create {@code count} chunk files of {@code sizeBytes} for a pool and attach their devices.
     */
    @EventType("io.szpool.command.provision-chunks.v1")
    record ProvisionChunks(
            String requestId,
            String hostId,
            String poolId,
            int count,
            long sizeBytes,
            boolean sparse)
            implements Command {
        public ProvisionChunks {
            required(requestId, "requestId");
            required(hostId, "hostId");
            required(poolId, "poolId");
            positive(count, "count");
            nonNegative(sizeBytes, "sizeBytes");
        }
    }

    /** Detach and delete chunks; {@code force} also takes chunks of an imported pool. */
    @EventType("io.szpool.command.destroy-chunks.v1")
    record DestroyChunks(
            String requestId, String hostId, String poolId, List<String> chunkIds, boolean force)
            implements Command {
        public DestroyChunks {
            required(requestId, "requestId");
            required(hostId, "hostId");
            required(poolId, "poolId");
            chunkIds = list(chunkIds, "chunkIds");
        }
    }

    /** Add {@code vdevs} vdevs to a pool. */
    @EventType("io.szpool.command.grow-pool.v1")
    record GrowPool(
            String requestId, String hostId, String poolId, int vdevs, GrowthTrigger trigger)
            implements Command {
        public GrowPool {
            required(requestId, "requestId");
            required(hostId, "hostId");
            required(poolId, "poolId");
            positive(vdevs, "vdevs");
            required(trigger, "trigger");
        }
    }

    /** Write a new backup generation of a pool now; {@code target} absent means the pool's own. */
    @EventType("io.szpool.command.sync-pool.v1")
    record SyncPool(String requestId, String hostId, String poolId, String target)
            implements Command {
        public SyncPool {
            required(requestId, "requestId");
            required(hostId, "hostId");
            required(poolId, "poolId");
        }
    }
}
