package io.szpool.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.events.CloudEvent;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.PostgresResource;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * One recorded history of the fleet, replayed through the handler (one transaction per event, real
 * PostgreSQL) in many interleavings of its topics, each keeping the order within a topic as Kafka
 * does: the catalog's rows must come out the same every time.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresResource.class, scope = TestResourceScope.GLOBAL)
class ConvergenceTest {
    static final int INTERLEAVINGS = 40;

    @Inject CatalogEventHandler handler;
    @Inject DataSource db;

    @Test
    void everyInterleavingOfTheTopicsGivesTheSameRows() throws Exception {
        String base = "~" + UUID.randomUUID().toString().substring(0, 8);
        FleetHistory inOrder = new FleetHistory(base + "-0");
        replay(inOrder.inOrder(), false);
        String expected = dump(inOrder, base + "-0");
        sanityCheck(inOrder, expected);

        Random random = new Random(7);
        for (int run = 1; run <= INTERLEAVINGS; run++) {
            String suffix = base + "-" + run;
            FleetHistory history = new FleetHistory(suffix);
            List<CloudEvent> order;
            if (run == 1) {
                order = topicAfterTopic(history, List.of(3, 2, 1, 0));
            } else if (run == 2) {
                order = topicAfterTopic(history, List.of(2, 1, 0, 3));
            } else {
                order = interleave(history.byTopic(), random);
            }
            // Every fourth run gets each event twice, as a consumer restarted mid-batch would.
            replay(order, run % 4 == 0);
            assertEquals(expected, dump(history, suffix), "interleaving " + run + " differs");
        }
    }

    private void replay(List<CloudEvent> events, boolean twice) {
        for (CloudEvent event : events) {
            assertTrue(handler.handle(event), "first delivery of " + event.id());
            if (twice) {
                assertFalse(handler.handle(event), "second delivery of " + event.id());
            }
        }
    }

    /** The topics one after another, in the given order of {@link FleetHistory#topics()}. */
    private static List<CloudEvent> topicAfterTopic(FleetHistory history, List<Integer> order) {
        List<CloudEvent> events = new ArrayList<>();
        for (int i : order) {
            events.addAll(history.byTopic().get(FleetHistory.topics().get(i)));
        }
        return events;
    }

    /** A random merge of the topics that keeps each topic's own order. */
    static List<CloudEvent> interleave(Map<String, List<CloudEvent>> byTopic, Random random) {
        List<List<CloudEvent>> queues = new ArrayList<>();
        for (List<CloudEvent> topic : byTopic.values()) {
            queues.add(new ArrayList<>(topic));
        }
        List<CloudEvent> merged = new ArrayList<>();
        while (true) {
            List<List<CloudEvent>> open = new ArrayList<>();
            for (List<CloudEvent> q : queues) {
                if (!q.isEmpty()) {
                    open.add(q);
                }
            }
            if (open.isEmpty()) {
                return merged;
            }
            // Bursts, as a consumer polls batches: take one to five events from one topic.
            List<CloudEvent> q = open.get(random.nextInt(open.size()));
            int burst = 1 + random.nextInt(5);
            for (int i = 0; i < burst && !q.isEmpty(); i++) {
                merged.add(q.remove(0));
            }
        }
    }

    private String dump(FleetHistory history, String suffix) throws Exception {
        try (Connection c = db.getConnection()) {
            return CatalogDump.of(c, suffix);
        }
    }

    /** The reference rows say what the history says, so the comparison compares something. */
    private static void sanityCheck(FleetHistory history, String dump) {
        List<String> lines = List.of(dump.split("\n"));
        assertLine(lines, "chunk_id=c3 ", "state=FAULTED");
        assertLine(
                lines, "chunk_id=c1 ", "state=IN_POOL", "last_synced_generation=2", "host_id=h1 ");
        assertLine(lines, "chunk_id=c5 ", "state=IN_POOL", "last_synced_generation=2");
        assertLine(lines, "chunk_id=c6 ", "state=IN_POOL", "last_synced_generation=null");
        assertLine(lines, "chunk_id=s1 ", "state=DESTROYED", "in_pool=f");
        assertLine(
                lines,
                "pool_id=tank ",
                "name=tank",
                "size_bytes=" + 4 * FleetHistory.GIB,
                "health=DEGRADED");
        assertLine(lines, "pool_id=scratch ", "state=destroyed");
        assertLine(lines, "generation=1 ", "state=completed", "chunks_synced=4");
        assertLine(lines, "generation=2 ", "state=failed", "chunks_synced=2", "reason=target full");
        assertLine(lines, "host_id=h2 service=cli");
        assertLine(lines, "trigger=capacity-alert");
        assertLine(
                lines,
                "host_id=h2 generation=1",
                "state=completed",
                "chunks_restored=2",
                "chunks_repaired=1");
        assertLine(lines, "host_id=h2 generation=2", "state=failed");
        assertEquals(
                history.inOrder().size(),
                Collections.frequency(
                        lines.stream()
                                .map(l -> l.startsWith("event_id=") && l.contains(" payload="))
                                .toList(),
                        true),
                "one log entry per event");
    }

    private static void assertLine(List<String> lines, String key, String... parts) {
        assertTrue(
                lines.stream()
                        .anyMatch(
                                l ->
                                        l.contains(key)
                                                && List.of(parts).stream().allMatch(l::contains)),
                "no row with " + key + " and " + List.of(parts));
    }
}
