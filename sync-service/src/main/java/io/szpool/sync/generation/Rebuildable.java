package io.szpool.sync.generation;

import io.szpool.sync.generation.GenerationStore.CheckReport;
import io.szpool.sync.generation.GenerationStore.ChunkCheck;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Whether RAID-Z2 can rebuild a restored generation: at most two missing or damaged chunks per
 * vdev. Decided from the manifest's layout before anything on the host changes, so a refusal leaves
 * crypto-device-service and pool-service untouched.
 */
public final class Rebuildable {
    /** RAID-Z2: two parity columns per vdev. */
    public static final int PARITY = 2;

    private Rebuildable() {}

    /**
     * A vdev with more bad chunks than parity.
     *
     * @param bad its missing and damaged chunks, sorted
     */
    public record LostVdev(int vdev, List<String> bad) {}

    /**
     * The pool's vdevs as the capture source recorded them ({@code vdevs}, {@code vdev.N} = chunk
     * ids by column); empty when the layout does not say (a capture of chunk files at rest of a
     * pool that pool-service did not know).
     */
    public static List<List<String>> vdevs(Map<String, String> layout) {
        String count = layout.get("vdevs");
        if (count == null || !count.matches("[0-9]{1,4}")) {
            return List.of();
        }
        List<List<String>> out = new ArrayList<>();
        for (int v = 0; v < Integer.parseInt(count); v++) {
            String ids = layout.get("vdev." + v);
            if (ids == null || ids.isBlank()) {
                return List.of();
            }
            out.add(List.copyOf(Arrays.asList(ids.split(","))));
        }
        return List.copyOf(out);
    }

    /** The vdevs of {@code layout} that lost more than two chunks in {@code report}. */
    public static List<LostVdev> lost(Map<String, String> layout, CheckReport report) {
        Set<String> bad = new TreeSet<>();
        report.with(ChunkCheck.MISSING).forEach(c -> bad.add(c.chunkId()));
        report.with(ChunkCheck.DAMAGED).forEach(c -> bad.add(c.chunkId()));
        List<LostVdev> out = new ArrayList<>();
        List<List<String>> vdevs = vdevs(layout);
        for (int v = 0; v < vdevs.size(); v++) {
            List<String> lostHere = vdevs.get(v).stream().filter(bad::contains).sorted().toList();
            if (lostHere.size() > PARITY) {
                out.add(new LostVdev(v, lostHere));
            }
        }
        return out;
    }
}
