package io.szpool.raidz;

import io.szpool.nbd.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A pool: one or more RAID-Z2 vdevs concatenated into one volume, itself a {@link BlockDevice} so
 * the volume can be exported over NBD. Grows online by {@link #addVdev}; {@link #importFrom}
 * assembles it again from its devices' labels.
 *
 * <p>Writes are buffered per vdev and become durable at {@link #flush()} (or a FUA write), which
 * commits a transaction group on every vdev. The size grows when a vdev is added; a caller that
 * cached {@link #size()} (an NBD connection already negotiated) keeps seeing the old size.
 */
public final class Pool implements BlockDevice {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final UUID uuid;
    private final String name;
    private final PoolOptions options;
    private final List<String> skippedDevices;
    private final Object config = new Object();
    private volatile Volume volume;
    private long generation; // guarded by config

    private Pool(
            UUID uuid,
            String name,
            PoolOptions options,
            long generation,
            Vdev[] vdevs,
            List<String> skipped) {
        this.uuid = uuid;
        this.name = name;
        this.options = options;
        this.generation = generation;
        this.skippedDevices = List.copyOf(skipped);
        publish(vdevs);
    }

    /**
     * Creates a pool with default options; each inner list is one vdev's devices, in column order.
     */
    public static Pool create(String name, List<? extends List<? extends BlockDevice>> vdevs)
            throws IOException {
        return create(name, vdevs, PoolOptions.DEFAULTS);
    }

    public static Pool create(
            String name, List<? extends List<? extends BlockDevice>> vdevs, PoolOptions options)
            throws IOException {
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > 255) {
            throw new IllegalArgumentException("pool name must be 1 to 255 bytes: " + name);
        }
        if (vdevs.isEmpty()) {
            throw new IllegalArgumentException("a pool needs at least one vdev");
        }
        Pool pool = new Pool(UUID.randomUUID(), name, options, 0, new Vdev[0], List.of());
        for (List<? extends BlockDevice> devices : vdevs) {
            pool.addVdev(devices);
        }
        return pool;
    }

    public static Pool importFrom(Collection<? extends BlockDevice> devices) throws IOException {
        return importFrom(devices, null, PoolOptions.DEFAULTS);
    }

    /**
     * Assembles a pool from its devices, given in any order. Refuses devices of another pool (or of
     * another pool than {@code expectedName}, when given), devices whose labels contradict the
     * pool's newest configuration, and vdevs with more than two devices missing. Devices with no
     * valid label, or shorter than their vdev needs (a truncated chunk), are left out and listed in
     * {@link #skippedDevices()}; their vdev imports degraded. The column size comes from the
     * labels; the other options from {@code options}.
     */
    public static Pool importFrom(
            Collection<? extends BlockDevice> devices, String expectedName, PoolOptions options)
            throws IOException {
        List<String> skipped = new ArrayList<>();
        Map<BlockDevice, Label> labels = new HashMap<>();
        Label newest = null;
        for (BlockDevice device : devices) {
            Label label = Label.readFrom(device);
            if (label == null) {
                skipped.add(device + ": no szpool label");
                continue;
            }
            if (expectedName != null && !expectedName.equals(label.poolName())) {
                throw new IOException(
                        "device "
                                + device
                                + " belongs to pool '"
                                + label.poolName()
                                + "' ("
                                + label.poolUuid()
                                + "), not to '"
                                + expectedName
                                + "'");
            }
            if (newest != null && !newest.poolUuid().equals(label.poolUuid())) {
                throw new IOException(
                        "devices of two pools given: "
                                + device
                                + " belongs to '"
                                + label.poolName()
                                + "' ("
                                + label.poolUuid()
                                + "), others to '"
                                + newest.poolName()
                                + "' ("
                                + newest.poolUuid()
                                + ")");
            }
            labels.put(device, label);
            if (newest == null || label.generation() > newest.generation()) {
                newest = label;
            }
        }
        if (newest == null) {
            throw new IOException("no device carries a szpool label: " + skipped);
        }
        Vdev[] vdevs = new Vdev[newest.vdevCount()];
        for (int v = 0; v < vdevs.length; v++) {
            vdevs[v] = importVdev(v, labels, options, skipped);
        }
        Pool pool =
                new Pool(
                        newest.poolUuid(),
                        newest.poolName(),
                        options.withColumnSize(vdevs[0].layout().columnSize()),
                        newest.generation(),
                        vdevs,
                        skipped);
        // Bring stale or half-written labels up to date, so the next import agrees with this one.
        synchronized (pool.config) {
            pool.writeLabels(vdevs);
        }
        return pool;
    }

    private static Vdev importVdev(
            int index, Map<BlockDevice, Label> labels, PoolOptions options, List<String> skipped)
            throws IOException {
        Label reference = null;
        for (Label label : labels.values()) {
            if (label.vdevIndex() == index
                    && (reference == null || label.generation() > reference.generation())) {
                reference = label;
            }
        }
        if (reference == null) {
            throw new IOException("vdev " + index + ": none of its devices was given");
        }
        BlockDevice[] members = new BlockDevice[reference.width()];
        for (Map.Entry<BlockDevice, Label> entry : labels.entrySet()) {
            Label label = entry.getValue();
            BlockDevice device = entry.getKey();
            if (label.vdevIndex() != index) {
                continue;
            }
            if (label.vdevGuid() != reference.vdevGuid()
                    || label.width() != reference.width()
                    || label.columnSize() != reference.columnSize()
                    || label.deviceSize() != reference.deviceSize()) {
                throw new IOException(
                        "device "
                                + device
                                + " claims vdev "
                                + index
                                + " column "
                                + label.column()
                                + " with a layout that contradicts the pool's newest label");
            }
            if (label.deviceGuid() != reference.deviceGuids()[label.column()]) {
                throw new IOException(
                        "device "
                                + device
                                + " claims vdev "
                                + index
                                + " column "
                                + label.column()
                                + ", which now belongs to another device (it was replaced)");
            }
            if (members[label.column()] != null) {
                throw new IOException(
                        "devices "
                                + members[label.column()]
                                + " and "
                                + device
                                + " both claim vdev "
                                + index
                                + " column "
                                + label.column()
                                + " (a copy of a device?)");
            }
            if (device.size() < reference.deviceSize()) {
                skipped.add(
                        device
                                + ": "
                                + device.size()
                                + " bytes, vdev "
                                + index
                                + " needs "
                                + reference.deviceSize()
                                + " (truncated)");
                continue;
            }
            members[label.column()] = device;
        }
        int missing = 0;
        for (BlockDevice member : members) {
            if (member == null) {
                missing++;
            }
        }
        if (missing > 2) {
            throw new IOException(
                    "vdev "
                            + index
                            + ": only "
                            + (members.length - missing)
                            + " of "
                            + members.length
                            + " devices present; raidz2 needs at least "
                            + (members.length - 2));
        }
        VdevLayout layout =
                VdevLayout.compute(
                        reference.width(), reference.columnSize(), reference.deviceSize());
        return Vdev.open(
                index,
                reference.vdevGuid(),
                layout,
                options.withColumnSize(reference.columnSize()),
                members,
                reference.deviceGuids());
    }

    /** Adds a vdev of the given devices (column order); the volume grows by its size at once. */
    public void addVdev(List<? extends BlockDevice> devices) throws IOException {
        synchronized (config) {
            long deviceSize = Long.MAX_VALUE;
            for (BlockDevice device : devices) {
                if (device.readOnly()) {
                    throw new IllegalArgumentException("device " + device + " is read-only");
                }
                deviceSize = Math.min(deviceSize, device.size());
            }
            deviceSize -= deviceSize % VdevLayout.BLOCK;
            VdevLayout layout =
                    VdevLayout.compute(devices.size(), options.columnSize(), deviceSize);
            long[] guids = new long[devices.size()];
            for (int c = 0; c < guids.length; c++) {
                guids[c] = RANDOM.nextLong();
            }
            Vdev[] current = volume.vdevs();
            Vdev vdev =
                    Vdev.create(current.length, RANDOM.nextLong(), layout, options, devices, guids);
            Vdev[] grown = java.util.Arrays.copyOf(current, current.length + 1);
            grown[current.length] = vdev;
            generation++;
            // The new vdev's labels first: a crash before the old devices learn the new vdev
            // count still finds the newest configuration complete on the new devices.
            writeLabels(new Vdev[] {vdev}, grown.length);
            writeLabels(current, grown.length);
            publish(grown);
        }
    }

    /** Puts {@code replacement} in place of a vdev's column and rebuilds its content. */
    public ScrubResult replace(int vdevIndex, int column, BlockDevice replacement)
            throws IOException {
        Vdev vdev = volume.vdevs()[vdevIndex];
        if (replacement.size() < vdev.layout().deviceSize()) {
            throw new IllegalArgumentException(
                    "replacement "
                            + replacement
                            + " has "
                            + replacement.size()
                            + " bytes, vdev "
                            + vdevIndex
                            + " needs "
                            + vdev.layout().deviceSize());
        }
        ScrubResult result = vdev.replace(column, replacement, RANDOM.nextLong());
        synchronized (config) {
            generation++;
            writeLabels(volume.vdevs());
        }
        return result;
    }

    /** Verifies every allocated block of every vdev and repairs what parity can rebuild. */
    public ScrubResult scrub() throws IOException {
        ScrubResult total = new ScrubResult(0, 0, 0);
        for (Vdev vdev : volume.vdevs()) {
            total = total.plus(vdev.scrub());
        }
        synchronized (config) {
            writeLabels(volume.vdevs());
        }
        return total;
    }

    private void writeLabels(Vdev[] which) {
        writeLabels(which, volume.vdevs().length);
    }

    private void writeLabels(Vdev[] which, int vdevCount) {
        for (Vdev vdev : which) {
            long[] guids = new long[vdev.width()];
            for (int c = 0; c < guids.length; c++) {
                guids[c] = vdev.device(c).guid;
            }
            for (int c = 0; c < guids.length; c++) {
                VdevDevice member = vdev.device(c);
                if (!member.readable()) {
                    continue; // a rebuilding device gets its label when it is complete
                }
                Label label =
                        new Label(
                                uuid,
                                name,
                                generation,
                                vdev.committedTxg(),
                                vdevCount,
                                vdev.index(),
                                vdev.guid(),
                                c,
                                vdev.width(),
                                vdev.layout().columnSize(),
                                vdev.layout().deviceSize(),
                                guids);
                try {
                    label.writeTo(member.device);
                } catch (IOException | RuntimeException e) {
                    member.writeErrors.incrementAndGet();
                }
            }
        }
    }

    /** The vdevs and where each starts in the volume, replaced as one when the pool grows. */
    private record Volume(Vdev[] vdevs, long[] starts) {}

    private void publish(Vdev[] grown) {
        long[] offsets = new long[grown.length + 1];
        for (int v = 0; v < grown.length; v++) {
            offsets[v + 1] = offsets[v] + grown[v].size();
        }
        volume = new Volume(grown, offsets);
    }

    public UUID uuid() {
        return uuid;
    }

    public String name() {
        return name;
    }

    Vdev vdev(int index) {
        return volume.vdevs()[index];
    }

    public int vdevCount() {
        return volume.vdevs().length;
    }

    /** Devices given to {@link #importFrom} that were left out, each with the reason. */
    public List<String> skippedDevices() {
        return skippedDevices;
    }

    /** Volume bytes written and not trimmed: what the capacity monitor compares with size. */
    public long allocatedBytes() {
        long total = 0;
        for (Vdev vdev : volume.vdevs()) {
            total += vdev.allocatedBytes();
        }
        return total;
    }

    public Health health() {
        Health worst = Health.ONLINE;
        for (Vdev vdev : volume.vdevs()) {
            Health h = vdev.health();
            if (h == Health.FAULTED) {
                return Health.FAULTED;
            }
            if (h == Health.DEGRADED) {
                worst = Health.DEGRADED;
            }
        }
        return worst;
    }

    public Health vdevHealth(int vdevIndex) {
        return volume.vdevs()[vdevIndex].health();
    }

    public List<DeviceStatus> status() {
        List<DeviceStatus> list = new ArrayList<>();
        for (Vdev vdev : volume.vdevs()) {
            list.addAll(vdev.status());
        }
        return list;
    }

    /** Resets error counters, as {@code zpool clear}; faulted devices stay faulted. */
    public void clearErrors() {
        for (Vdev vdev : volume.vdevs()) {
            vdev.clearErrors();
        }
    }

    // ---------------------------------------------------------------- BlockDevice

    @Override
    public long size() {
        long[] bounds = volume.starts();
        return bounds[bounds.length - 1];
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public boolean canTrim() {
        return true;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        forEachVdev(
                offset,
                dst.remaining(),
                (vdev, at, length) -> {
                    int limit = dst.limit();
                    dst.limit(dst.position() + (int) length);
                    try {
                        vdev.read(at, dst);
                    } finally {
                        dst.limit(limit);
                    }
                });
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        forEachVdev(
                offset,
                src.remaining(),
                (vdev, at, length) -> {
                    int limit = src.limit();
                    src.limit(src.position() + (int) length);
                    try {
                        vdev.write(at, src);
                    } finally {
                        src.limit(limit);
                    }
                    if (fua) {
                        vdev.commit();
                    }
                });
    }

    @Override
    public void flush() throws IOException {
        for (Vdev vdev : volume.vdevs()) {
            vdev.commit();
        }
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        forEachVdev(
                offset,
                length,
                (vdev, at, piece) -> {
                    vdev.trim(at, piece);
                    if (fua) {
                        vdev.commit();
                    }
                });
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
            throws IOException {
        // Unmapped stripes read as zeroes and stay reserved for the volume, so NO_HOLE needs no
        // other path: capacity is never overcommitted within a pool.
        forEachVdev(
                offset,
                length,
                (vdev, at, piece) -> {
                    vdev.writeZeroes(at, piece);
                    if (fua) {
                        vdev.commit();
                    }
                });
    }

    private interface VdevRange {
        void apply(Vdev vdev, long offset, long length) throws IOException;
    }

    private void forEachVdev(long offset, long length, VdevRange action) throws IOException {
        Volume snapshot = volume;
        long[] bounds = snapshot.starts();
        Vdev[] current = snapshot.vdevs();
        if (offset < 0 || length < 0 || offset > bounds[current.length] - length) {
            throw new IllegalArgumentException(
                    "range " + offset + "+" + length + " beyond pool end " + size());
        }
        long position = offset;
        long end = offset + length;
        int v = 0;
        while (position < end) {
            while (bounds[v + 1] <= position) {
                v++;
            }
            long piece = Math.min(end, bounds[v + 1]) - position;
            action.apply(current[v], position - bounds[v], piece);
            position += piece;
        }
    }

    /** Commits outstanding writes, then closes every device. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Vdev vdev : volume.vdevs()) {
            try {
                vdev.commit();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
            try {
                vdev.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "pool " + name;
    }
}
