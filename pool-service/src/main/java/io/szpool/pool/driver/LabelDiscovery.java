package io.szpool.pool.driver;

import io.szpool.nbd.BlockDevice;
import io.szpool.raidz.Label;
import io.szpool.raidz.Pool;
import io.szpool.raidz.PoolOptions;
import io.szpool.raidz.ScrubResult;
import io.szpool.service.ProblemException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The embedded driver's import of a pool this host has no record of (chunks restored from a backup
 * and adopted by crypto-device-service): opens the candidate chunks' devices, reads their RAID-Z2
 * labels, picks the devices of the pool with the asked name, names every missing column before it
 * imports (more than two in a vdev is a 409 that changes nothing), imports, and plans the rebuild
 * of the missing columns into the pool's leftover chunks: those of the same pool id whose label
 * does not read (a blank chunk for a lost image, a damaged image) and, when the vdev can afford it,
 * the chunks a restore marked damaged even where their label still reads, so that a damaged image
 * is rewritten whole instead of being trusted block by block.
 */
final class LabelDiscovery implements Discovery {
    private static final Logger LOG = Logger.getLogger(LabelDiscovery.class);

    private final EmbeddedPool pool;
    private final Pool engine;
    private final String poolId;
    private final int width;
    private final long chunkSizeBytes;
    private final List<List<ChunkCandidate>> columns;
    private final List<Replacement> plan;

    private record Replacement(int vdev, int column, ChunkCandidate chunk, BlockDevice device) {}

    private LabelDiscovery(
            Pool engine,
            String poolId,
            int width,
            long chunkSizeBytes,
            List<List<ChunkCandidate>> columns,
            List<Replacement> plan) {
        this.engine = engine;
        this.pool = new EmbeddedPool(engine);
        this.poolId = poolId;
        this.width = width;
        this.chunkSizeBytes = chunkSizeBytes;
        this.columns = columns;
        this.plan = plan;
    }

    /**
     * Finds and imports pool {@code name} among {@code candidates}. 404 when no candidate carries
     * its label, 409 when several pools of that name are there or a vdev misses more than two
     * columns; every device opened is closed again on a refusal.
     */
    static Discovery discover(String name, List<ChunkCandidate> candidates) throws IOException {
        Map<ChunkCandidate, BlockDevice> opened = new LinkedHashMap<>();
        List<ChunkCandidate> sorted =
                candidates.stream().sorted(Comparator.comparing(ChunkCandidate::chunkId)).toList();
        for (ChunkCandidate c : sorted) {
            try {
                opened.put(c, DeviceOpener.open(c.deviceAddress()));
            } catch (IOException e) {
                LOG.warnf("chunk %s at %s does not open: %s", c.chunkId(), c.deviceAddress(), e);
            }
        }
        Set<BlockDevice> kept = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        try {
            LabelDiscovery found = discover(name, opened, kept);
            return found;
        } finally {
            for (BlockDevice device : opened.values()) {
                if (!kept.contains(device)) {
                    EmbeddedDriver.closeQuietly(device);
                }
            }
        }
    }

    private static LabelDiscovery discover(
            String name, Map<ChunkCandidate, BlockDevice> opened, Set<BlockDevice> kept)
            throws IOException {
        Map<ChunkCandidate, Label> labels = new LinkedHashMap<>();
        Map<UUID, List<ChunkCandidate>> pools = new LinkedHashMap<>();
        for (Map.Entry<ChunkCandidate, BlockDevice> e : opened.entrySet()) {
            Label label = Label.readFrom(e.getValue());
            if (label != null) {
                labels.put(e.getKey(), label);
                if (label.poolName().equals(name)) {
                    pools.computeIfAbsent(label.poolUuid(), u -> new ArrayList<>()).add(e.getKey());
                }
            }
        }
        if (pools.isEmpty()) {
            throw ProblemException.notFound(
                    "no pool '"
                            + name
                            + "' on this host: none of the "
                            + opened.size()
                            + " attached chunks that no pool here owns carries its label");
        }
        if (pools.size() > 1) {
            throw ProblemException.conflict(
                    pools.size()
                            + " different pools named '"
                            + name
                            + "' are among this host's chunks, with pool ids "
                            + pools.values().stream().map(LabelDiscovery::poolIds).toList()
                            + "; import one of them with {\"poolId\": \"...\"}");
        }
        List<ChunkCandidate> members = pools.values().iterator().next();
        Set<String> ids = poolIds(members);
        if (ids.size() > 1) {
            throw ProblemException.conflict(
                    "the chunks of pool '"
                            + name
                            + "' are filed under several pool ids at crypto-device-service: "
                            + ids
                            + "; import with {\"poolId\": \"...\"} to take one set");
        }
        String poolId = ids.iterator().next();
        Label newest =
                members.stream()
                        .map(labels::get)
                        .max(Comparator.comparingLong(Label::generation))
                        .orElseThrow();

        // Which chunk sits in which column, by the newest label of each vdev (a device whose guid
        // a replace retired, or that is too short, is a leftover like a blank one).
        List<ChunkCandidate[]> layout = new ArrayList<>();
        List<Label> references = new ArrayList<>();
        List<ChunkCandidate> leftovers = new ArrayList<>();
        for (ChunkCandidate c : opened.keySet()) {
            if (c.poolId().equals(poolId) && !labels.containsKey(c)) {
                leftovers.add(c);
            }
        }
        // A damaged chunk taken out of its column goes back into it, rebuilt whole.
        Map<ChunkCandidate, List<Integer>> home = new LinkedHashMap<>();
        List<String> refusals = new ArrayList<>();
        for (int v = 0; v < newest.vdevCount(); v++) {
            final int index = v;
            Label reference =
                    members.stream()
                            .map(labels::get)
                            .filter(l -> l.vdevIndex() == index)
                            .max(Comparator.comparingLong(Label::generation))
                            .orElse(null);
            references.add(reference);
            if (reference == null) {
                refusals.add("vdev " + v + ": every column is missing");
                layout.add(new ChunkCandidate[0]);
                continue;
            }
            ChunkCandidate[] cols = new ChunkCandidate[reference.width()];
            for (ChunkCandidate c : members) {
                Label l = labels.get(c);
                if (l.vdevIndex() != v) {
                    continue;
                }
                boolean current =
                        l.vdevGuid() == reference.vdevGuid()
                                && l.deviceGuid() == reference.deviceGuids()[l.column()]
                                && opened.get(c).size() >= reference.deviceSize()
                                && cols[l.column()] == null;
                if (current) {
                    cols[l.column()] = c;
                } else {
                    leftovers.add(c);
                }
            }
            List<Integer> damaged = new ArrayList<>();
            for (int col = 0; col < cols.length; col++) {
                if (cols[col] != null && cols[col].damaged()) {
                    damaged.add(col);
                }
            }
            if (missing(cols).size() + damaged.size() <= 2) {
                for (int col : damaged) {
                    leftovers.add(cols[col]);
                    home.put(cols[col], List.of(v, col));
                    cols[col] = null;
                }
            }
            List<Integer> missing = missing(cols);
            if (missing.size() > 2) {
                refusals.add("vdev " + v + " misses columns " + missing + " of " + cols.length);
            }
            layout.add(cols);
        }
        if (!refusals.isEmpty()) {
            throw ProblemException.conflict(
                    "pool '"
                            + name
                            + "' ("
                            + poolId
                            + ") cannot be imported: "
                            + String.join("; ", refusals)
                            + " (raidz2 rebuilds at most two per vdev); chunks of the pool whose"
                            + " label does not read: "
                            + leftovers.stream().map(ChunkCandidate::chunkId).sorted().toList()
                            + "; nothing was changed");
        }

        List<BlockDevice> devices = new ArrayList<>();
        for (ChunkCandidate[] cols : layout) {
            for (ChunkCandidate c : cols) {
                if (c != null) {
                    devices.add(opened.get(c));
                }
            }
        }
        Pool engine = Pool.importFrom(devices, name, PoolOptions.DEFAULTS);
        kept.addAll(devices);

        List<Replacement> plan = new ArrayList<>();
        leftovers.sort(Comparator.comparing(ChunkCandidate::chunkId));
        for (int v = 0; v < layout.size(); v++) {
            ChunkCandidate[] cols = layout.get(v);
            for (int col : missing(cols)) {
                long needed = references.get(v).deviceSize();
                List<Integer> here = List.of(v, col);
                List<ChunkCandidate> fitting =
                        leftovers.stream().filter(c -> opened.get(c).size() >= needed).toList();
                ChunkCandidate spare =
                        fitting.stream()
                                .filter(c -> here.equals(home.get(c)))
                                .findFirst()
                                .or(
                                        () ->
                                                fitting.stream()
                                                        .filter(c -> !home.containsKey(c))
                                                        .findFirst())
                                .or(() -> fitting.stream().findFirst())
                                .orElse(null);
                if (spare == null) {
                    LOG.warnf(
                            "pool %s vdev %d column %d stays missing: no leftover chunk of pool %s"
                                    + " holds %d bytes",
                            name, v, col, poolId, needed);
                    continue;
                }
                leftovers.remove(spare);
                plan.add(new Replacement(v, col, spare, opened.get(spare)));
                kept.add(opened.get(spare));
            }
        }
        List<List<ChunkCandidate>> columns = new ArrayList<>();
        for (ChunkCandidate[] cols : layout) {
            columns.add(new ArrayList<>(Arrays.asList(cols)));
        }
        long chunkSize =
                columns.get(0).stream()
                        .filter(c -> c != null)
                        .mapToLong(ChunkCandidate::sizeBytes)
                        .findFirst()
                        .orElse(references.get(0).deviceSize());
        return new LabelDiscovery(
                engine, poolId, references.get(0).width(), chunkSize, columns, plan);
    }

    private static List<Integer> missing(ChunkCandidate[] cols) {
        List<Integer> missing = new ArrayList<>();
        for (int col = 0; col < cols.length; col++) {
            if (cols[col] == null) {
                missing.add(col);
            }
        }
        return missing;
    }

    private static Set<String> poolIds(List<ChunkCandidate> chunks) {
        return chunks.stream()
                .map(ChunkCandidate::poolId)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Override
    public LivePool pool() {
        return pool;
    }

    @Override
    public String poolId() {
        return poolId;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public long chunkSizeBytes() {
        return chunkSizeBytes;
    }

    @Override
    public List<List<ChunkCandidate>> columns() {
        return columns;
    }

    @Override
    public List<Rebuilt> rebuild() throws IOException {
        List<Rebuilt> rebuilt = new ArrayList<>();
        for (Replacement r : plan) {
            ScrubResult result = engine.replace(r.vdev(), r.column(), r.device());
            columns.get(r.vdev()).set(r.column(), r.chunk());
            rebuilt.add(
                    new Rebuilt(r.vdev(), r.column(), r.chunk().chunkId(), result.bytesRepaired()));
            LOG.infof(
                    "pool %s: vdev %d column %d rebuilt into chunk %s (%d bytes)",
                    engine.name(),
                    r.vdev(),
                    r.column(),
                    r.chunk().chunkId(),
                    result.bytesRepaired());
        }
        plan.clear();
        engine.flush();
        return rebuilt;
    }
}
