package io.szpool.pool.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.szpool.events.Vocabulary.GrowthTrigger;
import io.szpool.raidz.Health;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What pool-service must remember about one pool to survive a restart: its identity, which chunk
 * sits in which vdev at which address, whether it is imported, and the saga in flight. Mutable and
 * guarded by {@code PoolManager}'s lock; written to disk whole after every change.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public class PoolRecord {
    /** The pool's life: being built, assembled and served here, or released. */
    public enum State {
        CREATING,
        IMPORTED,
        EXPORTED
    }

    /** Which kind of saga is in flight. */
    public enum SagaKind {
        CREATE,
        GROW
    }

    public String poolId;
    public String name;
    public int width;
    public long chunkSizeBytes;
    public State state;
    public Instant createdAt;

    /** Each vdev's chunks in column order, as built. */
    public List<List<ChunkRef>> vdevs = new ArrayList<>();

    /** The saga in flight, or null. */
    public Saga saga;

    /** Counts sagas, so a retried saga sends the same request ids and a new one new ids. */
    public int sagaAttempts;

    /** Null means the service default. */
    public Boolean autoGrow;

    /** Null means the service default. */
    public Integer thresholdPercent;

    /** Null means the service default. */
    public Long maxSizeBytes;

    /**
     * The health last seen while the pool was served here; null before it ever was. Kept so an
     * import or a restart that finds it different announces the change.
     */
    public Health health;

    /** Whether the last capacity alert has not been cleared by falling below the hysteresis. */
    public boolean alerted;

    /** Ids of GrowPool commands already carried out (a redelivered command is a no-op). */
    public List<String> handledCommands = new ArrayList<>();

    /**
     * A chunk's id and where its device was last seen; both null for a column that an import found
     * missing and had no chunk to rebuild into.
     */
    public record ChunkRef(String chunkId, String deviceAddress) {
        public boolean present() {
            return chunkId != null;
        }
    }

    /** A create or grow waiting for chunks. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class Saga {
        public SagaKind kind;
        public int firstVdev;
        public int vdevs;
        public int attempt;
        public GrowthTrigger trigger;
        public Instant deadline;

        /** Chunks attached for this saga, in arrival order; grouped by width into vdevs. */
        public List<ChunkRef> chunks = new ArrayList<>();

        /** Why the device service refused, once it did. */
        public String failure;

        public List<String> requestIds(String poolId) {
            List<String> ids = new ArrayList<>();
            for (int v = firstVdev; v < firstVdev + vdevs; v++) {
                ids.add(requestId(poolId, v, attempt));
            }
            return ids;
        }
    }

    /**
     * The ProvisionChunks request id of one vdev: the same on every retry of a saga (the device
     * service then provisions once), different for the next saga of the same vdev index.
     */
    public static String requestId(String poolId, int vdevIndex, int attempt) {
        return poolId + "/vdev-" + vdevIndex + "/attempt-" + attempt;
    }

    public List<ChunkRef> allChunks() {
        List<ChunkRef> all = new ArrayList<>();
        vdevs.forEach(v -> v.stream().filter(ChunkRef::present).forEach(all::add));
        if (saga != null) {
            all.addAll(saga.chunks);
        }
        return all;
    }

    public boolean owns(String chunkId) {
        return allChunks().stream().anyMatch(c -> c.chunkId().equals(chunkId));
    }
}
