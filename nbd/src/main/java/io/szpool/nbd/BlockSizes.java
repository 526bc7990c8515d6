package io.szpool.nbd;

/**
 * Block size constraints of a device, as announced by {@code NBD_INFO_BLOCK_SIZE}: requests must be
 * aligned to {@code minimum}, are most efficient in multiples of {@code preferred}, and a read or
 * write carries at most {@code maximum} bytes.
 */
public record BlockSizes(int minimum, int preferred, int maximum) {
    /** What a plain file can do: any alignment, 4 KiB pages, 32 MiB per request. */
    public static final BlockSizes DEFAULT = new BlockSizes(1, 4096, Protocol.MAX_PAYLOAD);

    public BlockSizes {
        if (Integer.bitCount(minimum) != 1 || minimum > 65536) {
            throw new IllegalArgumentException("minimum must be a power of two <= 64 KiB");
        }
        if (Integer.bitCount(preferred) != 1 || preferred < Math.max(minimum, 512)) {
            throw new IllegalArgumentException("preferred must be a power of two >= max(min, 512)");
        }
        if (maximum < preferred || maximum % minimum != 0 || maximum > Protocol.MAX_PAYLOAD) {
            throw new IllegalArgumentException(
                    "maximum must be a multiple of minimum in [preferred, 32 MiB]");
        }
    }
}
