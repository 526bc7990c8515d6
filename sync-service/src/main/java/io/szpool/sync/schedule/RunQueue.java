package io.szpool.sync.schedule;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * At most one triggered run per pool at a time, and requests that arrive during a run coalesced
 * into one follow-up run: a schedule tick, a {@code PoolGrown} and a {@code SyncPool} that come
 * while a pool syncs all mean "sync again once this run is done", and one run does that. The
 * follow-up is needed because the run going may have captured the pool before the change that
 * caused the request.
 */
public final class RunQueue {

    /** What became of a request. */
    public enum Outcome {
        /** A run of the pool started for it. */
        STARTED,
        /** The pool is syncing; one more run follows that one (shared with other requests). */
        COALESCED
    }

    /** Runs one sync of a pool; returns normally also when the run failed (it reports itself). */
    @FunctionalInterface
    public interface Runner {
        /**
         * @return false when the pool was busy with a run not started here (an operator's request
         *     through REST); the request then stays pending
         */
        boolean run(String poolId, String reason);
    }

    private final Executor executor;
    private final Runner runner;
    private final Map<String, String> running = new HashMap<>();
    private final Map<String, String> pending = new HashMap<>();

    public RunQueue(Executor executor, Runner runner) {
        this.executor = executor;
        this.runner = runner;
    }

    public synchronized Outcome request(String poolId, String reason) {
        if (running.containsKey(poolId)) {
            pending.putIfAbsent(poolId, reason);
            return Outcome.COALESCED;
        }
        running.put(poolId, reason);
        executor.execute(() -> loop(poolId, reason));
        return Outcome.STARTED;
    }

    /** Whether the pool has a run of this queue going. */
    public synchronized boolean running(String poolId) {
        return running.containsKey(poolId);
    }

    /** Pools with a request still waiting for its run. */
    public synchronized Map<String, String> pending() {
        return Map.copyOf(pending);
    }

    /** Starts the pending run of a pool whose busy spell (outside this queue) is over. */
    public synchronized void retryPending(String poolId) {
        String reason = pending.remove(poolId);
        if (reason != null) {
            request(poolId, reason);
        }
    }

    private void loop(String poolId, String reason) {
        String why = reason;
        while (true) {
            boolean ran;
            try {
                ran = runner.run(poolId, why);
            } catch (RuntimeException e) {
                ran = true;
            }
            synchronized (this) {
                if (!ran) {
                    // Busy with a run we did not start: keep the request for the next tick.
                    pending.putIfAbsent(poolId, why);
                    running.remove(poolId);
                    return;
                }
                why = pending.remove(poolId);
                if (why == null) {
                    running.remove(poolId);
                    return;
                }
                running.put(poolId, why);
            }
        }
    }
}
