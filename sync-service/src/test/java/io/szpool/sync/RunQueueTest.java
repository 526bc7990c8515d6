package io.szpool.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.sync.schedule.RunQueue;
import io.szpool.sync.schedule.RunQueue.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/**
 * One run per pool, requests during a run coalesced into exactly one more; driven step by step (the
 * executor only records what it was given, the test runs it), so no timing is involved.
 */
class RunQueueTest {
    final List<Runnable> submitted = new ArrayList<>();
    final Executor manual = submitted::add;
    final List<String> runs = new ArrayList<>();

    @Test
    void requestsDuringARunAreCoalescedIntoOneMoreRun() {
        List<Runnable> duringRun = new ArrayList<>();
        RunQueue[] queue = new RunQueue[1];
        queue[0] =
                new RunQueue(
                        manual,
                        (pool, reason) -> {
                            runs.add(pool + ":" + reason);
                            duringRun.forEach(Runnable::run);
                            duringRun.clear();
                            return true;
                        });
        assertEquals(Outcome.STARTED, queue[0].request("p", "schedule"));
        assertTrue(queue[0].running("p"));
        // While the first run goes: three more requests, another pool's too.
        List<Outcome> during = new ArrayList<>();
        duringRun.add(() -> during.add(queue[0].request("p", "grown")));
        duringRun.add(() -> during.add(queue[0].request("p", "command")));
        duringRun.add(() -> during.add(queue[0].request("p", "schedule")));
        duringRun.add(() -> during.add(queue[0].request("q", "schedule")));
        assertEquals(1, submitted.size(), "one run per pool at a time");
        submitted.remove(0).run();

        assertEquals(
                List.of(Outcome.COALESCED, Outcome.COALESCED, Outcome.COALESCED, Outcome.STARTED),
                during);
        assertEquals(List.of("p:schedule", "p:grown"), runs, "exactly one follow-up run");
        assertFalse(queue[0].running("p"));
        assertEquals(1, submitted.size(), "pool q runs on its own");
        submitted.remove(0).run();
        assertEquals("q:schedule", runs.get(2));
        assertEquals(Outcome.STARTED, queue[0].request("p", "again"), "idle again");
    }

    @Test
    void aPoolBusyWithAnOperatorsRunKeepsTheRequestPending() {
        boolean[] busy = {true};
        RunQueue queue =
                new RunQueue(
                        manual,
                        (pool, reason) -> {
                            runs.add(pool + ":" + reason);
                            return !busy[0];
                        });
        queue.request("p", "grown");
        submitted.remove(0).run();
        assertFalse(queue.running("p"));
        assertEquals(java.util.Map.of("p", "grown"), queue.pending());

        busy[0] = false;
        queue.retryPending("p");
        submitted.remove(0).run();
        assertEquals(List.of("p:grown", "p:grown"), runs);
        assertTrue(queue.pending().isEmpty());
    }

    @Test
    void aFailingRunDoesNotWedgeThePool() {
        RunQueue queue =
                new RunQueue(
                        manual,
                        (pool, reason) -> {
                            runs.add(reason);
                            throw new IllegalStateException("target down");
                        });
        queue.request("p", "first");
        submitted.remove(0).run();
        assertFalse(queue.running("p"));
        assertEquals(Outcome.STARTED, queue.request("p", "second"));
    }
}
