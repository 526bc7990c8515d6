package io.szpool.device.chunk;

import io.szpool.service.ProblemException;
import java.util.regex.Pattern;

/** A validated provisioning request: how many chunks of which size for which pool. */
public record ChunkSpec(String poolId, int count, long sizeBytes, boolean sparse) {
    public static final long MIB = 1L << 20;
    public static final long MIN_SIZE = 64 * MIB;
    public static final long MAX_SIZE = 1L << 40;
    public static final long DEFAULT_SIZE = 1L << 30;
    public static final int MAX_COUNT = 256;
    private static final Pattern POOL_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    public ChunkSpec {
        requirePoolId(poolId);
        if (count < 1 || count > MAX_COUNT) {
            throw ProblemException.badRequest(
                    "count must be between 1 and " + MAX_COUNT + ", was " + count);
        }
        if (sizeBytes % MIB != 0 || sizeBytes < MIN_SIZE || sizeBytes > MAX_SIZE) {
            throw ProblemException.badRequest(
                    "sizeBytes must be a multiple of 1 MiB from 64 MiB to 1 TiB, was " + sizeBytes);
        }
    }

    /** Refuses a pool id that is absent or could name anything but one file (no '/', no '..'). */
    public static String requirePoolId(String poolId) {
        if (poolId == null || poolId.isBlank()) {
            throw ProblemException.badRequest("poolId is required");
        }
        if (!POOL_ID.matcher(poolId).matches() || poolId.contains("..")) {
            throw ProblemException.badRequest(
                    "poolId must be 1-128 letters, digits, '.', '_' or '-', starting with a letter"
                            + " or digit");
        }
        return poolId;
    }

    public long totalBytes() {
        return count * sizeBytes;
    }
}
