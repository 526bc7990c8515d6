package io.szpool.device.chunk;

import java.nio.file.Path;

/** A chunk file that exists on this host. */
public record ProvisionedChunk(
        String chunkId, String poolId, Path path, long sizeBytes, boolean sparse) {}
