package io.szpool.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.catalog.ingest.RowStore;
import io.szpool.events.CloudEvent;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.PostgresResource;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The bulk path's own proof: the history of {@link ConvergenceTest}, interleaved the same way, but
 * applied in batches as the consumers poll them (one transaction and one write per table per batch,
 * rows folded in memory), with batch boundaries anywhere, redeliveries inside a batch and whole
 * batches delivered twice. The rows must equal those of the history applied one event at a time, in
 * order.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresResource.class, scope = TestResourceScope.GLOBAL)
class BatchConvergenceTest {
    static final int INTERLEAVINGS = 30;

    @Inject CatalogEventHandler handler;
    @Inject DataSource db;

    @Test
    void batchesOfAnyInterleavingGiveTheRowsOfOneEventAtATime() throws Exception {
        String base = "~" + UUID.randomUUID().toString().substring(0, 8);
        FleetHistory inOrder = new FleetHistory(base + "-0");
        for (CloudEvent event : inOrder.inOrder()) {
            handler.handle(event);
        }
        String expected = dump(base + "-0");

        Random random = new Random(11);
        for (int run = 1; run <= INTERLEAVINGS; run++) {
            String suffix = base + "-" + run;
            FleetHistory history = new FleetHistory(suffix);
            List<CloudEvent> order =
                    run == 1
                            ? history.inOrder()
                            : ConvergenceTest.interleave(history.byTopic(), random);
            int applied = 0;
            // Run 1: the whole history in one batch; then batches of 1 to 25 events.
            for (int from = 0; from < order.size(); ) {
                int size = run == 1 ? order.size() : 1 + random.nextInt(25);
                List<CloudEvent> batch =
                        new ArrayList<>(order.subList(from, Math.min(order.size(), from + size)));
                from += batch.size();
                if (run % 3 == 0) {
                    // A producer retry: an event twice in one batch.
                    batch.add(random.nextInt(batch.size() + 1), batch.get(0));
                }
                applied += handler.handleAll(batch);
                if (run % 5 == 0) {
                    // A consumer restarted before committing its offsets: the batch again.
                    assertEquals(
                            0, handler.handleAll(batch), "a redelivered batch changes nothing");
                }
            }
            assertEquals(order.size(), applied, "each event applied once in run " + run);
            assertEquals(expected, dump(suffix), "interleaving " + run + " in batches differs");
        }
    }

    /**
     * A batch as large as a backlog's polls: its chunk rows go through the staging table (binary
     * COPY, then one upsert from it) instead of unnest arrays. Twenty-four histories (288 chunks)
     * in one batch, each interleaved on its own; every one must give the rows of the history
     * applied one event at a time, and the batch redelivered (its events found in the log, the
     * staged writes undone to the savepoint) must change nothing.
     */
    @Test
    void aBatchLargeEnoughToBeStagedGivesTheSameRows() throws Exception {
        String base = "~" + UUID.randomUUID().toString().substring(0, 8);
        for (CloudEvent event : new FleetHistory(base + "-0").inOrder()) {
            handler.handle(event);
        }
        String expected = dump(base + "-0");

        Random random = new Random(13);
        List<CloudEvent> batch = new ArrayList<>();
        int histories = 24;
        for (int h = 1; h <= histories; h++) {
            batch.addAll(
                    ConvergenceTest.interleave(
                            new FleetHistory(base + "-s" + h).byTopic(), random));
        }
        assertTrue(histories * 12 >= RowStore.STAGE_AT, "the batch's chunk rows are staged");
        assertEquals(batch.size(), handler.handleAll(batch));
        assertEquals(0, handler.handleAll(batch), "a redelivered batch changes nothing");
        for (int h = 1; h <= histories; h++) {
            assertEquals(expected, dump(base + "-s" + h), "history " + h + " of the staged batch");
        }
    }

    private String dump(String suffix) throws Exception {
        try (Connection c = db.getConnection()) {
            return CatalogDump.of(c, suffix);
        }
    }
}
