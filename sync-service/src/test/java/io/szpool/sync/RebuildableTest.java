package io.szpool.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.sync.generation.GenerationStore.CheckReport;
import io.szpool.sync.generation.GenerationStore.ChunkCheck;
import io.szpool.sync.generation.Rebuildable;
import io.szpool.sync.generation.Rebuildable.LostVdev;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What RAID-Z2 can rebuild of a restored generation, decided from its manifest's layout. */
class RebuildableTest {
    static final Map<String, String> TWO_VDEVS =
            Map.of(
                    "capture", "live-snapshot",
                    "vdevs", "2",
                    "vdev.0", "a0,a1,a2,a3,a4,a5",
                    "vdev.1", "b0,b1,b2,b3,b4,b5");

    static CheckReport report(Map<String, String> bad) {
        List<ChunkCheck> checks = new ArrayList<>();
        for (String v : List.of("a", "b")) {
            for (int c = 0; c < 6; c++) {
                String id = v + c;
                checks.add(new ChunkCheck(id, bad.getOrDefault(id, ChunkCheck.OK), ""));
            }
        }
        return new CheckReport(3, "pool-1", checks);
    }

    @Test
    void twoBadChunksInEachVdevAreRebuildable() {
        CheckReport r =
                report(
                        Map.of(
                                "a0", ChunkCheck.MISSING,
                                "a5", ChunkCheck.DAMAGED,
                                "b1", ChunkCheck.DAMAGED,
                                "b2", ChunkCheck.DAMAGED));
        assertEquals(List.of(), Rebuildable.lost(TWO_VDEVS, r));
    }

    @Test
    void threeBadChunksInOneVdevAreNamed() {
        CheckReport r =
                report(
                        Map.of(
                                "b4", ChunkCheck.MISSING,
                                "b0", ChunkCheck.DAMAGED,
                                "b2", ChunkCheck.DAMAGED,
                                "a1", ChunkCheck.DAMAGED));
        assertEquals(
                List.of(new LostVdev(1, List.of("b0", "b2", "b4"))),
                Rebuildable.lost(TWO_VDEVS, r));
    }

    @Test
    void aLayoutWithoutVdevsDecidesNothing() {
        CheckReport r =
                report(
                        Map.of(
                                "a0", ChunkCheck.MISSING,
                                "a1", ChunkCheck.MISSING,
                                "a2", ChunkCheck.MISSING));
        assertTrue(Rebuildable.lost(Map.of("capture", "at-rest"), r).isEmpty());
        assertTrue(
                Rebuildable.vdevs(Map.of("vdevs", "2", "vdev.0", "a0")).isEmpty(), "vdev.1 absent");
        assertTrue(Rebuildable.vdevs(Map.of("vdevs", "x")).isEmpty());
    }
}
