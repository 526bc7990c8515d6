package io.szpool.raidz;

import io.szpool.nbd.BlockDevice;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One RAID-Z2 vdev: {@code width} devices, double parity, copy-on-write stripes.
 *
 * <p>The vdev's volume is an array of logical stripes of {@code width - 2} column blocks. A map
 * sends each logical stripe to a physical stripe and holds the checksum of every column of it (data
 * and parity), so no device vouches for its own blocks. Writes collect in memory; at the dirty
 * limit they are written out as whole new stripes to free physical stripes (no flush, no
 * uberblock). A durable commit (flush, FUA, the txg timeout, or the reserve running short) writes
 * what is still dirty, then the changed map pages, flushes, and writes an uberblock naming the new
 * txg. A stripe that the last committed map references is never overwritten (except to repair a
 * column with the content its checksum demands), so a crash cannot tear it: that closes the RAID
 * write hole. See DESIGN.md.
 *
 * <p>Reads run in parallel under the read lock; writes and trims take the write lock to copy into
 * the open group. At the dirty limit the writer that fills the group seals it (allocates its
 * stripes) and hands it to a write-out thread, which writes it out without the lock while the
 * writers (that one too) fill the next group; at most one group is in flight, so writers wait
 * (without the lock) when the next one is full before the previous one is on the devices. Durable
 * commits are serialized by {@code syncLock} and hold the write lock only to take their snapshot
 * and to publish the result, not during device I/O.
 */
final class Vdev implements AutoCloseable {
    private static final int MAX_RUN = 256;
    private static final int MAP_MAGIC = 0x535a4d50; // "SZMP"
    private static final int UBERBLOCK_MAGIC = 0x535a5542; // "SZUB"

    // Background durable commits (txg timeout, reserve running short) of every vdev in this JVM.
    private static final ScheduledThreadPoolExecutor SYNCER = newSyncer();
    // Write-outs of sealed groups (at most one in flight per vdev), off the writers' threads.
    private static final ExecutorService WRITE_OUT =
            DeviceIo.daemonThreads("szpool-raidz-write-out");

    private final int index;
    private final long guid;
    private final VdevLayout layout;
    private final PoolOptions options;
    private final VdevDevice[] devices;
    private final int width;
    private final int column;
    private final int stripeData;
    private final int entriesPerPage;
    private final int dirtyLimit;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    // Serializes durable commits; taken before the write lock, never while holding it.
    private final ReentrantLock syncLock = new ReentrantLock();
    private final AtomicBoolean syncRequested = new AtomicBoolean();

    // Guarded by lock: the map as reads must see it (the committed map plus the stripes written out
    // since), and the changes not yet written out.
    private final int[] physical;
    private final int[] checksums;
    // Physical stripes that are mapped, or that a committed map (the last one, or the one a running
    // commit is making durable) may still reference: never allocated, never written.
    private final BitSet used;
    private int freeStripes;
    // Stripes the last committed map references but the in-memory map no longer does (overwritten
    // or trimmed): free once the next durable commit's uberblock is on disk.
    private final BitSet pendingFree = new BitSet();
    private int pendingFreeCount;
    // Stripes written out since the last commit snapshot: no committed map references them, so an
    // overwrite or a trim frees them at once.
    private final BitSet uncommitted = new BitSet();
    private final BitSet dirtyPages = new BitSet();
    // The open group: stripes written since the last seal, filled by writers.
    private final TreeMap<Integer, byte[]> dirty = new TreeMap<>();
    // The sealed group whose stripes are going to the devices outside the lock (at most one, so
    // writers are held back once the next group is full: back-pressure), or null. Reads find its
    // stripes in memory until it is published into the map.
    private Group inFlight;
    // Signalled (with the write lock) when the group in flight has been published or has failed.
    private final Condition groupDone = lock.writeLock().newCondition();
    private boolean unsynced;
    private long committedTxg;
    private long highestSeenTxg;
    private int allocationCursor;
    private long allocatedStripes;
    // Repairs write in place under the read lock; a flush with nothing else to commit flushes them.
    private volatile boolean unflushedRepairs;
    private volatile boolean closed;
    private volatile IOException broken;

    private Vdev(
            int index, long guid, VdevLayout layout, PoolOptions options, VdevDevice[] devices) {
        this.index = index;
        this.guid = guid;
        this.layout = layout;
        this.options = options;
        this.devices = devices;
        this.width = layout.width();
        this.column = layout.columnSize();
        this.stripeData = layout.stripeDataBytes();
        this.entriesPerPage = VdevLayout.entriesPerPage(width);
        // Not capped by the reserve: a write-out of never-mapped stripes needs none, and
        // overwrites are bounded by the free stripes (see fill).
        this.dirtyLimit =
                (int)
                        Math.max(
                                1,
                                Math.min(
                                        Integer.MAX_VALUE, options.dirtyLimitBytes() / stripeData));
        this.physical = new int[layout.logicalStripes()];
        this.checksums = new int[layout.logicalStripes() * width];
        this.used = new BitSet(layout.physicalStripes());
        this.freeStripes = layout.physicalStripes();
        Arrays.fill(physical, -1);
    }

    private static ScheduledThreadPoolExecutor newSyncer() {
        ScheduledThreadPoolExecutor syncer =
                new ScheduledThreadPoolExecutor(
                        2,
                        task -> {
                            Thread thread = new Thread(task, "szpool-raidz-sync");
                            thread.setDaemon(true);
                            return thread;
                        });
        syncer.setRemoveOnCancelPolicy(true);
        return syncer;
    }

    /** Initializes a new, empty vdev on {@code devices}: an all-unmapped map and txg 1. */
    static Vdev create(
            int index,
            long guid,
            VdevLayout layout,
            PoolOptions options,
            List<? extends BlockDevice> devices,
            long[] deviceGuids)
            throws IOException {
        VdevDevice[] members = new VdevDevice[devices.size()];
        for (int c = 0; c < members.length; c++) {
            members[c] = new VdevDevice(c, devices.get(c), deviceGuids[c]);
        }
        Vdev vdev = new Vdev(index, guid, layout, options, members);
        vdev.lock.writeLock().lock();
        try {
            vdev.dirtyPages.set(0, layout.mapPages());
        } finally {
            vdev.lock.writeLock().unlock();
        }
        vdev.commit();
        return vdev;
    }

    /**
     * Opens an existing vdev: finds the newest committed txg among the devices' uberblocks and
     * takes every map page from the device copy with the highest txg not beyond it.
     */
    static Vdev open(
            int index,
            long guid,
            VdevLayout layout,
            PoolOptions options,
            BlockDevice[] devices,
            long[] deviceGuids)
            throws IOException {
        VdevDevice[] members = new VdevDevice[devices.length];
        for (int c = 0; c < members.length; c++) {
            members[c] = new VdevDevice(c, devices[c], deviceGuids[c]);
        }
        Vdev vdev = new Vdev(index, guid, layout, options, members);
        vdev.load();
        return vdev;
    }

    int index() {
        return index;
    }

    long guid() {
        return guid;
    }

    VdevLayout layout() {
        return layout;
    }

    long size() {
        return layout.logicalBytes();
    }

    long committedTxg() {
        lock.readLock().lock();
        try {
            return committedTxg;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The physical stripes the in-memory map references (right after a commit: the committed map).
     */
    BitSet mappedStripes() {
        lock.readLock().lock();
        try {
            BitSet mapped = new BitSet();
            for (int s : physical) {
                if (s >= 0) {
                    mapped.set(s);
                }
            }
            return mapped;
        } finally {
            lock.readLock().unlock();
        }
    }

    VdevDevice device(int column) {
        return devices[column];
    }

    int width() {
        return width;
    }

    // ---------------------------------------------------------------- reads

    void read(long offset, ByteBuffer dst) throws IOException {
        lock.readLock().lock();
        try {
            checkUsable();
            checkRange(offset, dst.remaining());
            long position = offset;
            while (dst.hasRemaining()) {
                int stripe = (int) (position / stripeData);
                int within = (int) (position % stripeData);
                int length = Math.min(dst.remaining(), stripeData - within);
                byte[] data = buffered(stripe);
                if (data != null) {
                    dst.put(data, within, length);
                } else if (physical[stripe] < 0) {
                    putZeroes(dst, length);
                } else {
                    // Extend over the following stripes that sit next to this one on the devices,
                    // so a sequential read is one large read per device.
                    int count = 1;
                    long runBytes = length;
                    while (runBytes < dst.remaining() && count < MAX_RUN) {
                        int next = stripe + count;
                        if (buffered(next) != null || physical[next] != physical[stripe] + count) {
                            break;
                        }
                        runBytes += Math.min(stripeData, dst.remaining() - runBytes);
                        count++;
                    }
                    length = (int) runBytes;
                    readRun(stripe, count, within, length, dst);
                }
                position += length;
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Reads {@code length} bytes starting {@code within} bytes into logical stripe {@code first},
     * from {@code count} stripes that are consecutive both logically and physically.
     */
    private void readRun(int first, int count, int within, int length, ByteBuffer dst)
            throws IOException {
        int s0 = physical[first];
        int[] from = new int[count];
        int[] to = new int[count];
        int[] lowStripe = new int[width];
        int[] highStripe = new int[width];
        Arrays.fill(lowStripe, Integer.MAX_VALUE);
        Arrays.fill(highStripe, -1);
        int remaining = length;
        for (int k = 0; k < count; k++) {
            from[k] = k == 0 ? within : 0;
            to[k] = Math.min(stripeData, from[k] + remaining);
            remaining -= to[k] - from[k];
            for (int l = from[k] / column; l <= (to[k] - 1) / column; l++) {
                int d = layout.device(s0 + k, l);
                lowStripe[d] = Math.min(lowStripe[d], k);
                highStripe[d] = Math.max(highStripe[d], k);
            }
        }
        byte[][] buffers = new byte[width][];
        boolean[] selected = new boolean[width];
        for (int d = 0; d < width; d++) {
            selected[d] = highStripe[d] >= 0 && devices[d].readable();
        }
        IOException[] failures =
                DeviceIo.forEach(
                        selected,
                        d -> {
                            int stripes = highStripe[d] - lowStripe[d] + 1;
                            buffers[d] = new byte[stripes * column];
                            DeviceIo.read(
                                    devices[d].device,
                                    layout.columnOffset(s0 + lowStripe[d]),
                                    buffers[d],
                                    0,
                                    buffers[d].length);
                        });
        for (int d = 0; d < width; d++) {
            if (failures[d] != null) {
                readError(d);
            }
        }
        for (int k = 0; k < count; k++) {
            int logical = first + k;
            int s = s0 + k;
            int c0 = from[k] / column;
            int c1 = (to[k] - 1) / column;
            byte[][] healed = null;
            for (int l = c0; l <= c1 && healed == null; l++) {
                int d = layout.device(s, l);
                boolean good =
                        selected[d]
                                && failures[d] == null
                                && verify(logical, s, d, buffers[d], (k - lowStripe[d]) * column);
                if (!good) {
                    // Gather the whole stripe, verify what was read, rebuild what is bad.
                    healed = new byte[width][column];
                    int[] state = new int[width];
                    for (int e = 0; e < width; e++) {
                        boolean have =
                                selected[e]
                                        && failures[e] == null
                                        && k >= lowStripe[e]
                                        && k <= highStripe[e];
                        if (have) {
                            System.arraycopy(
                                    buffers[e], (k - lowStripe[e]) * column, healed[e], 0, column);
                        }
                        state[e] = have ? UNVERIFIED : UNREAD;
                    }
                    // Its error is already counted; heal must not count it again.
                    state[d] = BAD;
                    heal(logical, s, healed, state);
                }
            }
            for (int l = c0; l <= c1; l++) {
                int d = layout.device(s, l);
                int start = Math.max(from[k], l * column);
                int end = Math.min(to[k], (l + 1) * column);
                if (healed != null) {
                    dst.put(healed[d], start - l * column, end - start);
                } else {
                    dst.put(
                            buffers[d],
                            (k - lowStripe[d]) * column + start - l * column,
                            end - start);
                }
            }
        }
    }

    private static final int UNREAD = 0;
    private static final int UNVERIFIED = 1;
    private static final int GOOD = 2;
    private static final int BAD = 3;

    /**
     * Makes {@code columns} (indexed by device, one column block each) the correct content of
     * physical stripe {@code s}: reads what is missing, verifies everything against the map,
     * rebuilds up to two bad columns from parity and writes them back in place. Returns the bytes
     * repaired.
     */
    private long heal(int logical, int s, byte[][] columns, int[] state) throws IOException {
        List<Integer> bad = new ArrayList<>();
        for (int d = 0; d < width; d++) {
            if (state[d] == UNREAD) {
                if (!devices[d].readable()) {
                    state[d] = BAD;
                } else {
                    try {
                        DeviceIo.read(
                                devices[d].device, layout.columnOffset(s), columns[d], 0, column);
                        state[d] = UNVERIFIED;
                    } catch (IOException | RuntimeException e) {
                        readError(d);
                        state[d] = BAD;
                    }
                }
            }
            if (state[d] == UNVERIFIED) {
                state[d] = verify(logical, s, d, columns[d], 0) ? GOOD : BAD;
            }
            if (state[d] == BAD) {
                bad.add(d);
            }
        }
        if (bad.isEmpty()) {
            return 0;
        }
        if (bad.size() > 2) {
            throw new IOException(
                    "vdev "
                            + index
                            + ": stripe at volume offset "
                            + (long) logical * stripeData
                            + " has "
                            + bad.size()
                            + " of "
                            + width
                            + " columns unreadable or damaged (devices "
                            + bad
                            + "); double parity rebuilds at most two");
        }
        byte[][] ordered = new byte[width][];
        for (int l = 0; l < width; l++) {
            ordered[l] = columns[layout.device(s, l)];
        }
        int[] missing = bad.stream().mapToInt(d -> layout.logicalColumn(s, d)).toArray();
        RaidZ2Parity.reconstruct(ordered, new int[width], column, missing);
        long repaired = 0;
        for (int d : bad) {
            if (Checksums.column(columns[d], 0, column, s, d) != checksums[logical * width + d]) {
                throw new IOException(
                        "vdev "
                                + index
                                + ": stripe at volume offset "
                                + (long) logical * stripeData
                                + " does not rebuild to its checksums; more columns are damaged"
                                + " than the checksums revealed");
            }
            if (devices[d].writable()) {
                try {
                    unflushedRepairs = true;
                    DeviceIo.write(
                            devices[d].device, layout.columnOffset(s), columns[d], 0, column);
                    repaired += column;
                } catch (IOException | RuntimeException e) {
                    writeError(d);
                }
            }
        }
        return repaired;
    }

    private boolean verify(int logical, int s, int d, byte[] buffer, int at) {
        if (Checksums.column(buffer, at, column, s, d) == checksums[logical * width + d]) {
            return true;
        }
        VdevDevice member = devices[d];
        if (member.checksumErrors.incrementAndGet() >= options.checksumErrorLimit()
                && member.state == Health.ONLINE) {
            member.state = Health.DEGRADED;
        }
        return false;
    }

    private void readError(int d) {
        ioError(devices[d], devices[d].readErrors.incrementAndGet());
    }

    private void writeError(int d) {
        ioError(devices[d], devices[d].writeErrors.incrementAndGet());
    }

    private void ioError(VdevDevice member, long count) {
        long total = member.readErrors.get() + member.writeErrors.get();
        if (total >= options.ioErrorLimit() && member.state != Health.UNAVAIL) {
            member.state = Health.FAULTED;
        }
    }

    private static void putZeroes(ByteBuffer dst, int length) {
        for (int i = 0; i < length; i++) {
            dst.put((byte) 0);
        }
    }

    // ---------------------------------------------------------------- writes

    void write(long offset, ByteBuffer src) throws IOException {
        checkRange(offset, src.remaining());
        int start = src.position();
        while (true) {
            Group sealed;
            lock.writeLock().lock();
            try {
                checkUsable();
                sealed = fill(offset + (src.position() - start), src);
            } finally {
                lock.writeLock().unlock();
            }
            if (sealed == null) {
                return;
            }
            if (sealed == NO_ROOM) {
                // Overwrites since the last durable commit hold as many stripes as are free: only
                // a durable commit (which frees the stripes they replaced) makes room.
                commit();
            } else {
                // This writer sealed the full group: a write-out thread takes it to the devices
                // while this writer (and the others) go on filling the next one. A client that
                // sends one request at a time (a loop device over nbdfuse) would otherwise leave
                // the open group empty for the whole write-out.
                startWriteOut(sealed);
            }
        }
    }

    /**
     * Writes a sealed group out and publishes it on a write-out thread. Its writers were answered
     * already (their data is in memory, as in the open group); a failure breaks the vdev, so every
     * later request and the next FLUSH report it, and a FLUSH waits for the group in flight.
     */
    private void startWriteOut(Group group) {
        try {
            WRITE_OUT.execute(
                    () -> {
                        try {
                            writeOutAndPublish(group);
                        } catch (IOException | RuntimeException e) {
                            // writeOutAndPublish recorded it as the vdev's failure.
                        }
                    });
        } catch (RuntimeException e) {
            // The executor refused (the JVM shutting down): fail the group as a write-out would.
            finishWriteOut(
                    group, new IOException("vdev " + index + ": write-out not started: " + e, e));
        }
    }

    /** What {@link #fill} returns when the next stripe would not fit into the free stripes. */
    private static final Group NO_ROOM = new Group(new int[0], new byte[0][], new int[0], 0);

    /**
     * Copies {@code src} into dirty stripes from volume offset {@code offset}. Returns null when
     * all of {@code src} is in; else, with {@code src} partly consumed, the group it sealed at the
     * dirty limit (for the caller to write out) or {@link #NO_ROOM}. Waits (releasing the lock)
     * while the open group is full and the previous one is still in flight.
     */
    private Group fill(long offset, ByteBuffer src) throws IOException {
        long position = offset;
        while (src.hasRemaining()) {
            int stripe = (int) (position / stripeData);
            int within = (int) (position % stripeData);
            int length = Math.min(src.remaining(), stripeData - within);
            byte[] data = dirty.get(stripe);
            if (data == null) {
                if (dirty.size() >= dirtyLimit) {
                    if (inFlight == null) {
                        return sealLocked();
                    }
                    awaitGroupLocked();
                    checkUsable();
                    continue;
                }
                // Every dirty stripe must find a free stripe at its write-out; a durable commit
                // itself writes out what is dirty, so it must fit too.
                if (dirty.size() + 1 > freeStripes) {
                    return NO_ROOM;
                }
                if (pendingFreeCount > 0
                        && freeStripes - dirty.size() <= layout.reserveStripes() / 2) {
                    requestSync();
                }
                byte[] prior = inFlight == null ? null : inFlight.get(stripe);
                if (length == stripeData) {
                    data = Buffers.take(stripeData);
                } else if (prior != null) {
                    // The newest content is still on its way to the devices: start from it.
                    data = Buffers.take(stripeData);
                    System.arraycopy(prior, 0, data, 0, stripeData);
                } else if (physical[stripe] >= 0) {
                    // A partial write of a stripe that holds data: the new stripe carries the
                    // old data around it (read, verified and repaired like any read).
                    data = Buffers.take(stripeData);
                    readRun(stripe, 1, 0, stripeData, ByteBuffer.wrap(data));
                } else {
                    data = Buffers.takeZeroed(stripeData);
                }
                dirty.put(stripe, data);
                markUnsynced();
            }
            src.get(data, within, length);
            position += length;
        }
        return null;
    }

    /** The newest buffered content of a logical stripe: the open group's, else the sealed one's. */
    private byte[] buffered(int stripe) {
        byte[] data = dirty.get(stripe);
        if (data == null && inFlight != null) {
            data = inFlight.get(stripe);
        }
        return data;
    }

    /** Waits, without the write lock, until the group in flight is published or has failed. */
    private void awaitGroupLocked() throws IOException {
        try {
            groupDone.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while a write-out was in flight");
        }
    }

    /** Unmaps whole stripes (thin provisioning); partial stripes keep their content. */
    void trim(long offset, long length) throws IOException {
        checkRange(offset, length);
        long first = (offset + stripeData - 1) / stripeData;
        long end = (offset + length) / stripeData;
        unmapRange(first, end);
    }

    /** Makes a range read as zeroes: whole stripes are unmapped, partial ones written. */
    void writeZeroes(long offset, long length) throws IOException {
        checkRange(offset, length);
        long end = offset + length;
        long firstWhole = (offset + stripeData - 1) / stripeData;
        long endWhole = end / stripeData;
        if (firstWhole >= endWhole) {
            // Within one stripe, or across the border of two without covering either.
            writeZeroBytes(offset, end);
            return;
        }
        writeZeroBytes(offset, firstWhole * stripeData);
        unmapRange(firstWhole, endWhole);
        writeZeroBytes(endWhole * stripeData, end);
    }

    private void writeZeroBytes(long from, long to) throws IOException {
        for (long position = from; position < to; ) {
            int piece = (int) Math.min(to - position, stripeData);
            write(position, ByteBuffer.allocate(piece));
            position += piece;
        }
    }

    private void unmapRange(long first, long end) throws IOException {
        lock.writeLock().lock();
        try {
            checkUsable();
            for (long stripe = first; stripe < end; stripe++) {
                unmap((int) stripe);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void unmap(int stripe) {
        byte[] data = dirty.remove(stripe);
        if (data != null) {
            Buffers.give(data);
            markUnsynced();
        }
        if (inFlight != null && inFlight.supersede(stripe)) {
            // Its publication must not map it again, and reads must not see it meanwhile.
            markUnsynced();
        }
        int old = physical[stripe];
        if (old >= 0) {
            release(old);
            physical[stripe] = -1;
            Arrays.fill(checksums, stripe * width, (stripe + 1) * width, 0);
            allocatedStripes--;
            dirtyPages.set(stripe / entriesPerPage);
            markUnsynced();
        }
    }

    /**
     * Lets go of a physical stripe the in-memory map no longer references: at once if no committed
     * map references it, else after the next durable commit.
     */
    private void release(int s) {
        if (uncommitted.get(s)) {
            uncommitted.clear(s);
            used.clear(s);
            freeStripes++;
        } else {
            pendingFree.set(s);
            pendingFreeCount++;
        }
    }

    long allocatedBytes() {
        lock.readLock().lock();
        try {
            long pending = 0;
            for (int stripe : dirty.keySet()) {
                if (physical[stripe] < 0) {
                    pending++;
                }
            }
            if (inFlight != null) {
                for (int i = 0; i < inFlight.logicals.length; i++) {
                    int stripe = inFlight.logicals[i];
                    if (physical[stripe] < 0
                            && !inFlight.superseded.get(i)
                            && !dirty.containsKey(stripe)) {
                        pending++;
                    }
                }
            }
            return (allocatedStripes + pending) * stripeData;
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------- commit

    /** The first change since the last commit snapshot starts the txg timeout. */
    private void markUnsynced() {
        if (unsynced) {
            return;
        }
        unsynced = true;
        if (options.txgTimeoutMillis() > 0 && !closed) {
            SYNCER.schedule(
                    this::backgroundCommit, options.txgTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Asks for a durable commit soon, on the sync thread, so writers need not wait for it. */
    private void requestSync() {
        if (syncRequested.compareAndSet(false, true)) {
            SYNCER.execute(
                    () -> {
                        try {
                            backgroundCommit();
                        } finally {
                            syncRequested.set(false);
                        }
                    });
        }
    }

    private void backgroundCommit() {
        if (closed || broken != null) {
            return;
        }
        try {
            commit();
        } catch (IOException | RuntimeException e) {
            // The vdev is now broken (see commit); the next request reports it with this cause.
        }
    }

    /**
     * Makes every write so far durable: afterwards it survives a crash. Holds the write lock only
     * to write out the last dirty stripes and take a snapshot of the map, and again to publish the
     * result; the map pages, flushes and uberblock run while writers fill the next group.
     */
    void commit() throws IOException {
        syncLock.lock();
        try {
            // The bulk of what is dirty goes out as a group, without the lock; only what writers
            // add meanwhile is written out under it by prepareLocked.
            Group sealed;
            lock.writeLock().lock();
            try {
                checkUsable();
                while (inFlight != null) {
                    awaitGroupLocked();
                }
                checkUsable();
                sealed = dirty.isEmpty() ? null : sealLocked();
            } finally {
                lock.writeLock().unlock();
            }
            if (sealed != null) {
                writeOutAndPublish(sealed);
            }
            Snapshot snapshot;
            lock.writeLock().lock();
            try {
                snapshot = prepareLocked();
            } finally {
                lock.writeLock().unlock();
            }
            if (snapshot == null) {
                return;
            }
            boolean[][] written = syncDevices(snapshot);
            lock.writeLock().lock();
            try {
                finishLocked(snapshot, written);
            } finally {
                lock.writeLock().unlock();
            }
        } finally {
            syncLock.unlock();
        }
    }

    /** A commit with nothing let in between its steps; the caller holds syncLock and the lock. */
    private void commitLocked() throws IOException {
        Snapshot snapshot = prepareLocked();
        if (snapshot != null) {
            finishLocked(snapshot, syncDevices(snapshot));
        }
    }

    /**
     * What a durable commit makes durable: txg, the encoded map pages, the stripes it frees once
     * its uberblock is on disk. A txg of 0 only flushes the devices (repairs).
     */
    private record Snapshot(
            long txg,
            Map<Integer, byte[]> pages,
            BitSet freeing,
            int freeingCount,
            long allocated,
            boolean[] failed) {}

    private Snapshot prepareLocked() throws IOException {
        checkUsable();
        // A group in flight may hold older copies of stripes the snapshot must see published.
        while (inFlight != null) {
            awaitGroupLocked();
        }
        checkUsable();
        boolean[] failed = new boolean[width];
        if (dirty.isEmpty() && dirtyPages.isEmpty()) {
            unsynced = false;
            if (!unflushedRepairs) {
                return null;
            }
            unflushedRepairs = false;
            return new Snapshot(0, Map.of(), new BitSet(), 0, allocatedStripes, failed);
        }
        try {
            writeOutLocked(failed);
        } catch (IOException e) {
            broken = e;
            throw e;
        }
        long txg = Math.max(committedTxg, highestSeenTxg) + 1;
        highestSeenTxg = txg;
        Map<Integer, byte[]> pages = new TreeMap<>();
        for (int p = dirtyPages.nextSetBit(0); p >= 0; p = dirtyPages.nextSetBit(p + 1)) {
            pages.put(p, encodeMapPage(p, txg));
        }
        Snapshot snapshot =
                new Snapshot(
                        txg,
                        pages,
                        (BitSet) pendingFree.clone(),
                        pendingFreeCount,
                        allocatedStripes,
                        failed);
        // From here on the stripes of this snapshot are referenced by the map being committed:
        // an overwrite must keep them (pendingFree of the next commit), not free them at once.
        pendingFree.clear();
        pendingFreeCount = 0;
        uncommitted.clear();
        dirtyPages.clear();
        unsynced = false;
        unflushedRepairs = false;
        return snapshot;
    }

    /** The device I/O of a durable commit; returns which map pages each device took. */
    private boolean[][] syncDevices(Snapshot snapshot) throws IOException {
        boolean[] failed = snapshot.failed();
        try {
            if (snapshot.txg() == 0) {
                flushDevices(failed);
                return new boolean[width][];
            }
            boolean[][] written = writeMapPages(snapshot, failed);
            flushDevices(failed);
            checkFailures(failed, "writing the map");
            writeUberblock(snapshot.txg(), snapshot.allocated(), failed);
            flushDevices(failed);
            checkFailures(failed, "writing the uberblock");
            return written;
        } catch (IOException e) {
            // The in-memory map may now be ahead of the devices; only a re-import is safe.
            broken = e;
            throw e;
        }
    }

    private void finishLocked(Snapshot snapshot, boolean[][] written) {
        if (snapshot.txg() == 0) {
            return;
        }
        committedTxg = snapshot.txg();
        for (int d = 0; d < width; d++) {
            for (int p : snapshot.pages().keySet()) {
                if (written[d] != null && written[d][p]) {
                    devices[d].currentMapSlot.flip(p);
                }
            }
        }
        used.andNot(snapshot.freeing());
        freeStripes += snapshot.freeingCount();
    }

    /**
     * Writes every dirty stripe to a fresh physical stripe (P, Q and checksums computed, one
     * request per device per run) and points the in-memory map at it, all under the lock. No flush,
     * no map page, no uberblock: until a durable commit, a crash leaves these stripes unreferenced
     * free space and the last committed state whole. Only a durable commit uses this (for what
     * writers added while its group was in flight), with no group in flight.
     */
    private void writeOutLocked(boolean[] failed) throws IOException {
        if (dirty.isEmpty()) {
            return;
        }
        Group group = sealLocked();
        try {
            writeOut(group, failed);
            publishLocked(group);
        } finally {
            inFlight = null;
            groupDone.signalAll();
        }
    }

    /**
     * A sealed group of dirty stripes with the physical stripes allocated for them, in logical
     * order. Its data and checksums are written only by the thread writing it out; {@code
     * superseded} (guarded by the vdev's lock) marks stripes trimmed since the seal.
     */
    private static final class Group {
        final int[] logicals;
        final byte[][] data;
        final int[] targets;
        final int[] checksums;
        final BitSet superseded = new BitSet();

        Group(int[] logicals, byte[][] data, int[] targets, int width) {
            this.logicals = logicals;
            this.data = data;
            this.targets = targets;
            this.checksums = new int[logicals.length * width];
        }

        /** The content of a logical stripe of this group, null when not in it (or trimmed). */
        byte[] get(int stripe) {
            int i = Arrays.binarySearch(logicals, stripe);
            return i >= 0 && !superseded.get(i) ? data[i] : null;
        }

        /** Marks a logical stripe trimmed since the seal; true when the group held it. */
        boolean supersede(int stripe) {
            int i = Arrays.binarySearch(logicals, stripe);
            if (i < 0 || superseded.get(i)) {
                return false;
            }
            superseded.set(i);
            return true;
        }
    }

    /**
     * Moves the open group into flight: allocates its physical stripes (so the next group's never
     * collide with them) and leaves an empty open group. The caller holds the write lock and has
     * checked that no group is in flight.
     */
    private Group sealLocked() {
        int count = dirty.size();
        int[] logicals = new int[count];
        byte[][] data = new byte[count][];
        int i = 0;
        for (Map.Entry<Integer, byte[]> entry : dirty.entrySet()) {
            logicals[i] = entry.getKey();
            data[i] = entry.getValue();
            i++;
        }
        dirty.clear();
        Group group = new Group(logicals, data, allocate(count), width);
        inFlight = group;
        return group;
    }

    /**
     * Writes a sealed group out without the lock, then publishes it into the map under it. A
     * failure leaves the vdev broken: writers were told their data was taken, and it is lost.
     */
    private void writeOutAndPublish(Group group) throws IOException {
        IOException failure = null;
        try {
            writeOut(group, new boolean[width]);
        } catch (IOException e) {
            failure = e;
        } catch (RuntimeException e) {
            failure = new IOException("vdev " + index + ": write-out failed: " + e, e);
        }
        finishWriteOut(group, failure);
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Ends the group in flight: publishes it, or, when its write-out failed (or never started),
     * breaks the vdev with the failure; then lets the writers waiting for it go on.
     */
    private void finishWriteOut(Group group, IOException failure) {
        lock.writeLock().lock();
        try {
            if (failure == null) {
                publishLocked(group);
            } else if (broken == null) {
                broken = failure;
            }
            inFlight = null;
            groupDone.signalAll();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Points the in-memory map at a written group's stripes; the caller holds the write lock. */
    private void publishLocked(Group group) {
        for (int i = 0; i < group.logicals.length; i++) {
            int stripe = group.logicals[i];
            int target = group.targets[i];
            Buffers.give(group.data[i]);
            if (group.superseded.get(i)) {
                // Trimmed while in flight: its new stripe was never referenced.
                used.clear(target);
                freeStripes++;
                continue;
            }
            if (physical[stripe] >= 0) {
                release(physical[stripe]);
            } else {
                allocatedStripes++;
            }
            physical[stripe] = target;
            System.arraycopy(group.checksums, i * width, checksums, stripe * width, width);
            uncommitted.set(target);
            dirtyPages.set(stripe / entriesPerPage);
        }
    }

    /**
     * Picks free physical stripes for a write-out, next-fit from a rotating cursor, so the stripes
     * of one write-out are mostly consecutive and each device sees large sequential writes. A
     * stripe a committed map may still reference is in {@code used} and never picked.
     */
    private int[] allocate(int count) {
        int[] targets = new int[count];
        int total = layout.physicalStripes();
        for (int i = 0; i < count; i++) {
            int s = used.nextClearBit(allocationCursor);
            if (s >= total) {
                s = used.nextClearBit(0);
            }
            if (s >= total) {
                throw new IllegalStateException("vdev " + index + ": no free physical stripe");
            }
            used.set(s);
            freeStripes--;
            targets[i] = s;
            allocationCursor = s + 1 >= total ? 0 : s + 1;
        }
        return targets;
    }

    /**
     * Computes P, Q and the column checksums of a group in runs of physically consecutive stripes
     * and writes each run with one request per device. The devices write on their own threads, each
     * going through the runs in order as soon as the calling thread has computed them, so parity
     * overlaps the I/O and no device waits for the slowest one between runs.
     */
    private void writeOut(Group group, boolean[] failed) throws IOException {
        int[] targets = group.targets;
        List<int[]> runs = new ArrayList<>();
        for (int i = 0; i < targets.length; ) {
            int j = i + 1;
            while (j < targets.length && j - i < MAX_RUN && targets[j] == targets[j - 1] + 1) {
                j++;
            }
            runs.add(new int[] {i, j});
            i = j;
        }
        int runCount = runs.size();
        byte[][][] buffers = new byte[runCount][][];
        @SuppressWarnings("unchecked")
        CompletableFuture<Void>[] ready = new CompletableFuture[runCount];
        for (int r = 0; r < runCount; r++) {
            ready[r] = new CompletableFuture<>();
        }
        try {
            IOException[] failures =
                    DeviceIo.forEachWhile(
                            writableNotFailed(failed),
                            d -> {
                                List<CompletableFuture<Void>> sent = new ArrayList<>();
                                try {
                                    for (int r = 0; r < runCount; r++) {
                                        awaitRun(ready[r]);
                                        int[] run = runs.get(r);
                                        sent.add(
                                                DeviceIo.writeAsync(
                                                        devices[d].device,
                                                        layout.columnOffset(targets[run[0]]),
                                                        buffers[r][d],
                                                        (run[1] - run[0]) * column));
                                    }
                                } finally {
                                    // Every buffer stays in use until its write has returned.
                                    DeviceIo.awaitAll(sent);
                                }
                            },
                            () -> {
                                try {
                                    for (int r = 0; r < runCount; r++) {
                                        int[] run = runs.get(r);
                                        buffers[r] = encodeRun(group, run[0], run[1]);
                                        ready[r].complete(null);
                                    }
                                } catch (RuntimeException e) {
                                    for (CompletableFuture<Void> f : ready) {
                                        f.completeExceptionally(e);
                                    }
                                    throw e;
                                }
                            });
            recordWriteFailures(failures, failed);
        } finally {
            for (byte[][] run : buffers) {
                if (run != null) {
                    for (byte[] buffer : run) {
                        Buffers.give(buffer);
                    }
                }
            }
        }
        checkFailures(failed, "writing stripes");
    }

    private static void awaitRun(CompletableFuture<Void> ready) throws IOException {
        try {
            ready.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            throw new IOException("parity of the run failed", e.getCause());
        }
    }

    /** One buffer per device holding its columns of stripes {@code [from, to)} of a group. */
    private byte[][] encodeRun(Group group, int from, int to) {
        int count = to - from;
        byte[][] buffers = new byte[width][];
        // Sizes rounded up to a power of two, so runs of different lengths share spare arrays.
        int size = Integer.highestOneBit(Math.max(1, 2 * count - 1)) * column;
        for (int d = 0; d < width; d++) {
            buffers[d] = Buffers.take(size);
        }
        byte[][] ordered = new byte[width][];
        int[] offsets = new int[width];
        for (int k = 0; k < count; k++) {
            int s = group.targets[from + k];
            byte[] data = group.data[from + k];
            for (int l = 0; l < width; l++) {
                ordered[l] = buffers[layout.device(s, l)];
                offsets[l] = k * column;
                if (l < width - 2) {
                    System.arraycopy(data, l * column, ordered[l], k * column, column);
                }
            }
            RaidZ2Parity.generate(ordered, offsets, column);
            for (int d = 0; d < width; d++) {
                group.checksums[(from + k) * width + d] =
                        Checksums.column(buffers[d], k * column, column, s, d);
            }
        }
        return buffers;
    }

    private boolean[][] writeMapPages(Snapshot snapshot, boolean[] failed) {
        Map<Integer, byte[]> pages = snapshot.pages();
        boolean[][] written = new boolean[width][];
        IOException[] failures =
                DeviceIo.forEach(
                        writableNotFailed(failed),
                        d -> {
                            written[d] = new boolean[layout.mapPages()];
                            VdevDevice member = devices[d];
                            for (Map.Entry<Integer, byte[]> page : pages.entrySet()) {
                                int p = page.getKey();
                                int slot = member.currentMapSlot.get(p) ? 0 : 1;
                                byte[] block = page.getValue();
                                DeviceIo.write(
                                        member.device,
                                        layout.mapSlotOffset(p, slot),
                                        block,
                                        0,
                                        block.length);
                                written[d][p] = true;
                            }
                        });
        recordWriteFailures(failures, failed);
        return written;
    }

    private byte[] encodeMapPage(int page, long txg) {
        byte[] block = new byte[VdevLayout.BLOCK];
        ByteBuffer b = ByteBuffer.wrap(block);
        b.putInt(MAP_MAGIC).putInt(page).putLong(txg).putLong(guid).putLong(0);
        int first = page * entriesPerPage;
        int last = Math.min(layout.logicalStripes(), first + entriesPerPage);
        for (int stripe = first; stripe < last; stripe++) {
            b.putInt(physical[stripe]);
            for (int d = 0; d < width; d++) {
                b.putInt(checksums[stripe * width + d]);
            }
        }
        b.putLong(24, Checksums.metadata(block, block.length, 24));
        return block;
    }

    private void writeUberblock(long txg, long allocated, boolean[] failed) {
        byte[] block = new byte[VdevLayout.BLOCK];
        ByteBuffer b = ByteBuffer.wrap(block);
        b.putInt(UBERBLOCK_MAGIC).putInt(0).putLong(txg).putLong(guid).putLong(0);
        b.putLong(allocated);
        b.putLong(24, Checksums.metadata(block, block.length, 24));
        IOException[] failures =
                DeviceIo.forEach(
                        writableNotFailed(failed),
                        d ->
                                DeviceIo.write(
                                        devices[d].device,
                                        layout.uberblockOffset(txg),
                                        block,
                                        0,
                                        block.length));
        recordWriteFailures(failures, failed);
    }

    private void flushDevices(boolean[] failed) {
        IOException[] failures =
                DeviceIo.forEach(writableNotFailed(failed), d -> devices[d].device.flush());
        recordWriteFailures(failures, failed);
    }

    private boolean[] writableNotFailed(boolean[] failed) {
        boolean[] selected = new boolean[width];
        for (int d = 0; d < width; d++) {
            selected[d] = devices[d].writable() && !failed[d];
        }
        return selected;
    }

    private void recordWriteFailures(IOException[] failures, boolean[] failed) {
        for (int d = 0; d < width; d++) {
            if (failures[d] != null) {
                failed[d] = true;
                writeError(d);
            }
        }
    }

    /** A commit holds only while at most two columns of what it wrote are missing. */
    private void checkFailures(boolean[] failed, String step) throws IOException {
        List<Integer> lost = new ArrayList<>();
        for (int d = 0; d < width; d++) {
            if (failed[d] || !devices[d].readable()) {
                lost.add(d);
            }
        }
        if (lost.size() > 2) {
            throw new IOException(
                    "vdev "
                            + index
                            + ": "
                            + step
                            + " failed: devices "
                            + lost
                            + " unavailable or failing, more than double parity covers");
        }
    }

    // ---------------------------------------------------------------- import

    private void load() throws IOException {
        int pages = layout.mapPages();
        byte[][] areas = new byte[width][];
        byte[][] rings = new byte[width][];
        boolean[] selected = new boolean[width];
        for (int d = 0; d < width; d++) {
            selected[d] = devices[d].readable();
        }
        IOException[] failures =
                DeviceIo.forEach(
                        selected,
                        d -> {
                            rings[d] = new byte[VdevLayout.UBERBLOCK_SLOTS * VdevLayout.BLOCK];
                            DeviceIo.read(
                                    devices[d].device,
                                    VdevLayout.UBERBLOCK_START,
                                    rings[d],
                                    0,
                                    rings[d].length);
                            areas[d] = new byte[pages * 2 * VdevLayout.BLOCK];
                            DeviceIo.read(
                                    devices[d].device,
                                    VdevLayout.MAP_START,
                                    areas[d],
                                    0,
                                    areas[d].length);
                        });
        long txg = 0;
        long allocatedAtTxg = -1;
        for (int d = 0; d < width; d++) {
            if (failures[d] != null) {
                readError(d);
                continue;
            }
            if (rings[d] == null) {
                continue;
            }
            for (int slot = 0; slot < VdevLayout.UBERBLOCK_SLOTS; slot++) {
                ByteBuffer b = validBlock(rings[d], slot * VdevLayout.BLOCK, UBERBLOCK_MAGIC);
                if (b != null) {
                    long t = b.getLong(8);
                    highestSeenTxg = Math.max(highestSeenTxg, t);
                    if (t > txg) {
                        txg = t;
                        allocatedAtTxg = b.getLong(32);
                    }
                }
            }
        }
        if (txg == 0) {
            throw new IOException("vdev " + index + ": no device holds a valid uberblock");
        }
        committedTxg = txg;
        for (int p = 0; p < pages; p++) {
            long bestTxg = -1;
            ByteBuffer best = null;
            for (int d = 0; d < width; d++) {
                if (areas[d] == null || failures[d] != null) {
                    continue;
                }
                long deviceBest = -1;
                for (int slot = 0; slot < 2; slot++) {
                    ByteBuffer b =
                            validBlock(areas[d], (2 * p + slot) * VdevLayout.BLOCK, MAP_MAGIC);
                    if (b == null || b.getInt(4) != p) {
                        continue;
                    }
                    long t = b.getLong(8);
                    highestSeenTxg = Math.max(highestSeenTxg, t);
                    if (t > txg) {
                        // Left by a commit that never finished: the next commit must overwrite
                        // it before its own uberblock makes txg t look committed.
                        dirtyPages.set(p);
                    }
                    if (t <= txg && t > deviceBest) {
                        deviceBest = t;
                        devices[d].currentMapSlot.set(p, slot == 1);
                    }
                    if (t <= txg && t > bestTxg) {
                        bestTxg = t;
                        best = b;
                    }
                }
            }
            if (best == null) {
                throw new IOException(
                        "vdev " + index + ": map page " + p + " has no valid copy on any device");
            }
            decodeMapPage(p, best);
            // A device with an older or damaged copy gets the current one at the next commit.
            for (int d = 0; d < width; d++) {
                if (devices[d].writable() && !copyMatches(areas[d], p, devices[d], bestTxg)) {
                    dirtyPages.set(p);
                }
            }
        }
        for (int stripe = 0; stripe < physical.length; stripe++) {
            if (physical[stripe] >= 0) {
                if (!used.get(physical[stripe])) {
                    freeStripes--;
                }
                used.set(physical[stripe]);
                allocatedStripes++;
            }
        }
        if (allocatedStripes != allocatedAtTxg) {
            throw new IOException(
                    "vdev "
                            + index
                            + ": map of txg "
                            + txg
                            + " holds "
                            + allocatedStripes
                            + " stripes, its uberblock says "
                            + allocatedAtTxg);
        }
    }

    private boolean copyMatches(byte[] area, int page, VdevDevice member, long txg) {
        if (area == null) {
            return false;
        }
        int slot = member.currentMapSlot.get(page) ? 1 : 0;
        ByteBuffer b = validBlock(area, (2 * page + slot) * VdevLayout.BLOCK, MAP_MAGIC);
        return b != null && b.getInt(4) == page && b.getLong(8) == txg;
    }

    private ByteBuffer validBlock(byte[] area, int at, int magic) {
        byte[] block = Arrays.copyOfRange(area, at, at + VdevLayout.BLOCK);
        ByteBuffer b = ByteBuffer.wrap(block);
        if (b.getInt(0) != magic || b.getLong(16) != guid) {
            return null;
        }
        if (b.getLong(24) != Checksums.metadata(block, block.length, 24)) {
            return null;
        }
        return b;
    }

    private void decodeMapPage(int page, ByteBuffer b) {
        b.position(VdevLayout.MAP_HEADER);
        int first = page * entriesPerPage;
        int last = Math.min(layout.logicalStripes(), first + entriesPerPage);
        for (int stripe = first; stripe < last; stripe++) {
            int s = b.getInt();
            physical[stripe] = s >= 0 && s < layout.physicalStripes() ? s : -1;
            for (int d = 0; d < width; d++) {
                checksums[stripe * width + d] = b.getInt();
            }
        }
    }

    // ---------------------------------------------------------------- scrub and resilver

    /**
     * Reads every allocated stripe, verifies every column against the map, repairs what parity can
     * rebuild, then rewrites the map on every device so stale metadata copies heal too.
     */
    ScrubResult scrub() throws IOException {
        ScrubResult result = walkAllocated(-1);
        lock.writeLock().lock();
        try {
            checkUsable();
            dirtyPages.set(0, layout.mapPages());
        } finally {
            lock.writeLock().unlock();
        }
        commit();
        return result;
    }

    /**
     * Puts {@code replacement} in column {@code col} and rebuilds every allocated column of it from
     * the others. The device takes writes at once but serves reads only when the rebuild is done.
     */
    ScrubResult replace(int col, BlockDevice replacement, long newGuid) throws IOException {
        VdevDevice member = devices[col];
        syncLock.lock();
        lock.writeLock().lock();
        try {
            commitLocked();
            member.device = replacement;
            member.guid = newGuid;
            member.state = Health.RESILVERING;
            member.clearErrors();
            member.currentMapSlot.clear();
            dirtyPages.set(0, layout.mapPages());
            commitLocked();
        } finally {
            lock.writeLock().unlock();
            syncLock.unlock();
        }
        ScrubResult result = walkAllocated(col);
        if (result.bytesUnrecoverable() > 0) {
            throw new IOException(
                    "vdev "
                            + index
                            + ": resilver of column "
                            + col
                            + " could not rebuild "
                            + result.bytesUnrecoverable()
                            + " bytes");
        }
        syncLock.lock();
        lock.writeLock().lock();
        try {
            commitLocked();
            member.state = Health.ONLINE;
        } finally {
            lock.writeLock().unlock();
            syncLock.unlock();
        }
        return result;
    }

    /**
     * Visits every allocated stripe in physical order, in runs read with one request per device,
     * and heals each. With {@code rebuild >= 0} that column is treated as missing and rewritten.
     */
    private ScrubResult walkAllocated(int rebuild) throws IOException {
        int[] order;
        lock.readLock().lock();
        try {
            checkUsable();
            order = new int[layout.physicalStripes()];
            Arrays.fill(order, -1);
            for (int stripe = 0; stripe < physical.length; stripe++) {
                if (physical[stripe] >= 0) {
                    order[physical[stripe]] = stripe;
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        long scanned = 0;
        long repaired = 0;
        long unrecoverable = 0;
        int s = 0;
        while (s < order.length) {
            if (order[s] < 0) {
                s++;
                continue;
            }
            int first = s;
            while (s < order.length && order[s] >= 0 && s - first < MAX_RUN) {
                s++;
            }
            int count = s - first;
            lock.readLock().lock();
            try {
                checkUsable();
                byte[][] buffers = new byte[width][count * column];
                boolean[] selected = new boolean[width];
                for (int d = 0; d < width; d++) {
                    selected[d] = d != rebuild && devices[d].readable();
                }
                IOException[] failures =
                        DeviceIo.forEach(
                                selected,
                                d ->
                                        DeviceIo.read(
                                                devices[d].device,
                                                layout.columnOffset(first),
                                                buffers[d],
                                                0,
                                                count * column));
                for (int d = 0; d < width; d++) {
                    if (failures[d] != null) {
                        readError(d);
                    } else if (selected[d]) {
                        scanned += (long) count * column;
                    }
                }
                for (int k = 0; k < count; k++) {
                    int logical = order[first + k];
                    if (physical[logical] != first + k) {
                        continue; // rewritten elsewhere since the walk began
                    }
                    byte[][] columns = new byte[width][column];
                    int[] state = new int[width];
                    for (int d = 0; d < width; d++) {
                        if (d == rebuild) {
                            state[d] = BAD;
                        } else if (selected[d] && failures[d] == null) {
                            System.arraycopy(buffers[d], k * column, columns[d], 0, column);
                            state[d] = UNVERIFIED;
                        } else {
                            state[d] = UNREAD;
                        }
                    }
                    try {
                        repaired += heal(logical, first + k, columns, state);
                    } catch (IOException e) {
                        unrecoverable += stripeData;
                    }
                }
            } finally {
                lock.readLock().unlock();
            }
        }
        return new ScrubResult(scanned, repaired, unrecoverable);
    }

    // ---------------------------------------------------------------- state

    Health health() {
        int lost = 0;
        boolean degraded = false;
        for (VdevDevice member : devices) {
            if (!member.readable()) {
                lost++;
            } else if (member.state == Health.DEGRADED) {
                degraded = true;
            }
        }
        if (lost > 2 || broken != null) {
            return Health.FAULTED;
        }
        return lost > 0 || degraded ? Health.DEGRADED : Health.ONLINE;
    }

    List<DeviceStatus> status() {
        List<DeviceStatus> list = new ArrayList<>();
        for (VdevDevice m : devices) {
            list.add(
                    new DeviceStatus(
                            index,
                            m.column,
                            m.toString(),
                            m.state,
                            m.readErrors.get(),
                            m.writeErrors.get(),
                            m.checksumErrors.get()));
        }
        return list;
    }

    void clearErrors() {
        for (VdevDevice m : devices) {
            m.clearErrors();
        }
    }

    private void checkUsable() throws IOException {
        if (broken != null) {
            throw new IOException(
                    "vdev " + index + " stopped after a failed commit; re-import the pool", broken);
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size() - length) {
            throw new IllegalArgumentException(
                    "range " + offset + "+" + length + " beyond vdev " + index + " end " + size());
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        IOException first = null;
        for (VdevDevice m : devices) {
            if (m.device != null) {
                try {
                    m.device.close();
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
