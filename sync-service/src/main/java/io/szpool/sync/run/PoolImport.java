package io.szpool.sync.run;

import io.szpool.sync.source.DeviceServiceClient;
import io.szpool.sync.source.DeviceServiceClient.Adopted;
import io.szpool.sync.source.PoolServiceClient;
import io.szpool.sync.source.PoolServiceClient.Imported;
import io.szpool.sync.source.PoolServiceClient.PoolState;
import io.szpool.sync.source.PoolServiceClient.Rebuilt;
import io.szpool.sync.source.PoolServiceClient.Scrubbed;
import io.szpool.sync.source.ServiceHttp.CallFailedException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jboss.logging.Logger;

/**
 * The second half of a restore: this host's crypto-device-service adopts the restored folder,
 * pool-service imports the pool from the adopted chunks (rebuilding up to two bad columns per
 * vdev), and a scrub repairs damage in chunks whose labels were intact, which the import took as
 * they were.
 */
public final class PoolImport {
    private static final Logger LOG = Logger.getLogger(PoolImport.class);

    private final DeviceServiceClient devices;
    private final PoolServiceClient pools;
    private final String deviceUrl;
    private final String poolUrl;

    PoolImport(
            DeviceServiceClient devices,
            PoolServiceClient pools,
            String deviceUrl,
            String poolUrl) {
        this.devices = devices;
        this.pools = pools;
        this.deviceUrl = deviceUrl;
        this.poolUrl = poolUrl;
    }

    /**
     * What the import did.
     *
     * @param repaired chunks rebuilt at import or repaired by the scrub
     */
    public record Outcome(
            String pool,
            String poolId,
            String state,
            String health,
            Adopted adopted,
            List<Rebuilt> rebuilt,
            Scrubbed scrub,
            Set<String> repaired) {}

    /** A step that failed; nothing later ran. {@code status} is what the caller should answer. */
    static final class StepFailed extends Exception {
        final String step;
        final int status;

        StepFailed(String step, int status, String message, Throwable cause) {
            super(message, cause);
            this.step = step;
            this.status = status;
        }
    }

    Outcome run(Path folder, String pool, String poolId) throws StepFailed, InterruptedException {
        Adopted adopted =
                step("adopt", "crypto-device-service", deviceUrl, () -> devices.adopt(folder));
        if (!poolId.equals(adopted.poolId())) {
            throw new StepFailed(
                    "adopt",
                    502,
                    "crypto-device-service adopted pool "
                            + adopted.poolId()
                            + " from "
                            + folder
                            + ", not "
                            + poolId,
                    null);
        }
        LOG.infof(
                "pool %s: crypto-device-service adopted %d chunks",
                poolId, adopted.chunks().size());
        Imported imported =
                step("import", "pool-service", poolUrl, () -> pools.importPool(pool, poolId));
        LOG.infof(
                "pool %s imported as %s (%s), %d columns rebuilt",
                poolId, pool, imported.pool().health(), imported.rebuilt().size());
        Scrubbed scrub = step("scrub", "pool-service", poolUrl, () -> pools.scrub(pool));
        PoolState after = step("scrub", "pool-service", poolUrl, () -> pools.show(pool));
        Set<String> repaired = new TreeSet<>();
        imported.rebuilt().stream()
                .map(Rebuilt::chunkId)
                .filter(id -> id != null)
                .forEach(repaired::add);
        // The scrub counts checksum (and read) errors per device: a chunk with any had blocks
        // rewritten from parity.
        after.vdevs().stream()
                .flatMap(v -> v.devices().stream())
                .filter(d -> d.chunkId() != null)
                .filter(d -> d.checksumErrors() > 0 || d.readErrors() > 0)
                .forEach(d -> repaired.add(d.chunkId()));
        LOG.infof(
                "pool %s: scrub read %d bytes, repaired %d, unrecoverable %d; health %s",
                pool,
                scrub.bytesScanned(),
                scrub.bytesRepaired(),
                scrub.bytesUnrecoverable(),
                after.health());
        return new Outcome(
                pool,
                poolId,
                after.state(),
                after.health(),
                adopted,
                imported.rebuilt(),
                scrub,
                Set.copyOf(repaired));
    }

    @FunctionalInterface
    private interface Call<T> {
        T call() throws IOException, InterruptedException;
    }

    private static <T> T step(String step, String service, String url, Call<T> call)
            throws StepFailed, InterruptedException {
        try {
            return call.call();
        } catch (CallFailedException e) {
            // A conflict stays a conflict (an id clash at adopt, a vdev beyond repair at import);
            // anything else is the other service's failure, seen through this one.
            int status = e.status() == 409 ? 409 : 502;
            throw new StepFailed(step, status, step + " at " + service + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new StepFailed(
                    step,
                    502,
                    step
                            + " at "
                            + service
                            + ": "
                            + url
                            + " did not answer ("
                            + (e.getMessage() == null
                                    ? e.getClass().getSimpleName()
                                    : e.getMessage())
                            + ")",
                    e);
        }
    }
}
