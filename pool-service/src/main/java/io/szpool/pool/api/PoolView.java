package io.szpool.pool.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.szpool.pool.driver.LivePool;
import io.szpool.pool.driver.ScanState;
import io.szpool.pool.engine.PoolManager;
import io.szpool.pool.engine.PoolManager.Snapshot;
import io.szpool.pool.store.PoolRecord;
import io.szpool.pool.store.PoolRecord.ChunkRef;
import io.szpool.raidz.DeviceStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * A pool as {@code zpool list} and {@code zpool status} show it. Size, allocated and health are
 * absent (null / UNAVAIL) while the pool is not assembled here.
 */
public record PoolView(
        String name,
        String poolId,
        String state,
        String health,
        String layout,
        String driver,
        int width,
        long chunkSizeBytes,
        Long sizeBytes,
        Long allocatedBytes,
        Long freeBytes,
        String nbdExport,
        String saga,
        Policy autoGrow,
        ScanState scan,
        List<VdevView> vdevs,
        @JsonInclude(JsonInclude.Include.NON_NULL) List<Rebuilt> rebuilt) {

    /** A column an import rebuilt into a leftover chunk; only in the answer of that import. */
    public record Rebuilt(int vdev, int column, String chunkId, long bytes) {}

    PoolView withRebuilt(List<Rebuilt> rebuilt) {
        return new PoolView(
                name,
                poolId,
                state,
                health,
                layout,
                driver,
                width,
                chunkSizeBytes,
                sizeBytes,
                allocatedBytes,
                freeBytes,
                nbdExport,
                saga,
                autoGrow,
                scan,
                vdevs,
                rebuilt);
    }

    /** The capacity policy in effect for this pool. */
    public record Policy(boolean enabled, int thresholdPercent, long maxSizeBytes) {}

    public record VdevView(int index, String health, List<DeviceView> devices) {}

    /** One device: its chunk, address, state and error counts (read / write / checksum). */
    public record DeviceView(
            int column,
            String chunkId,
            String deviceAddress,
            String state,
            long readErrors,
            long writeErrors,
            long checksumErrors) {}

    static PoolView of(Snapshot s, PoolManager manager) {
        PoolRecord r = s.record();
        LivePool pool = s.pool();
        List<VdevView> vdevs = new ArrayList<>();
        for (int v = 0; v < r.vdevs.size(); v++) {
            List<ChunkRef> chunks = r.vdevs.get(v);
            List<DeviceView> devices = new ArrayList<>();
            if (pool != null && v < pool.vdevCount()) {
                // A device left out at import (no answer, no label, too short) has no name in the
                // engine: it is one of the vdev's chunks that no present device matches.
                List<ChunkRef> unmatched = new ArrayList<>(chunks);
                for (DeviceStatus d : pool.status()) {
                    if (d.vdev() == v) {
                        unmatched.remove(match(chunks, d.device()));
                    }
                }
                for (DeviceStatus d : pool.status()) {
                    if (d.vdev() != v) {
                        continue;
                    }
                    ChunkRef chunk = match(chunks, d.device());
                    if (chunk == null && !unmatched.isEmpty()) {
                        // The record keeps columns in order: a missing column's own entry first.
                        ChunkRef own = d.column() < chunks.size() ? chunks.get(d.column()) : null;
                        chunk = own != null && unmatched.remove(own) ? own : unmatched.remove(0);
                    }
                    devices.add(
                            new DeviceView(
                                    d.column(),
                                    chunk == null ? null : chunk.chunkId(),
                                    chunk == null ? d.device() : chunk.deviceAddress(),
                                    d.state().name(),
                                    d.readErrors(),
                                    d.writeErrors(),
                                    d.checksumErrors()));
                }
                vdevs.add(new VdevView(v, pool.vdevHealth(v).name(), devices));
            } else {
                for (int c = 0; c < chunks.size(); c++) {
                    devices.add(
                            new DeviceView(
                                    c,
                                    chunks.get(c).chunkId(),
                                    chunks.get(c).deviceAddress(),
                                    "UNAVAIL",
                                    0,
                                    0,
                                    0));
                }
                vdevs.add(new VdevView(v, "UNAVAIL", devices));
            }
        }
        Long size = pool == null ? null : pool.size();
        Long allocated = pool == null ? null : pool.allocatedBytes();
        return new PoolView(
                r.name,
                r.poolId,
                r.state.name().toLowerCase(),
                pool == null ? "UNAVAIL" : pool.health().name(),
                "raidz2",
                manager.driverName(),
                r.width,
                r.chunkSizeBytes,
                size,
                allocated,
                size == null ? null : Math.max(0, size - allocated),
                pool == null || pool.volume().isEmpty()
                        ? null
                        : "nbd://" + manager.nbdHost() + ":" + manager.nbdPort() + "/" + r.name,
                r.saga == null ? null : r.saga.kind.name().toLowerCase(),
                new Policy(
                        manager.effectiveAutoGrow(r),
                        manager.effectiveThreshold(r),
                        manager.effectiveMaxSize(r)),
                pool == null ? null : pool.scan().orElse(null),
                vdevs,
                null);
    }

    /** The engine names a device by its toString (the NBD export name, or the file path). */
    private static ChunkRef match(List<ChunkRef> chunks, String device) {
        for (ChunkRef c : chunks) {
            if (c.present()
                    && (device.contains(c.chunkId()) || device.contains(c.deviceAddress()))) {
                return c;
            }
        }
        return null;
    }
}
