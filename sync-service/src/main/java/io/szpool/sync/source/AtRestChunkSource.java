package io.szpool.sync.source;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The chunk files of a pool at rest, read from a crypto-device-service data folder ({@code
 * records/*.json}, {@code chunks/<id>}, {@code keys/<pool>.slot}). Consistent only while nothing
 * writes the chunks, that is while the pool is exported or its services are stopped. It cannot
 * freeze a live pool; instead it notes every file's size, modification time and inode when opened
 * and {@link #checkUnchanged()} refuses a capture during which one of them changed.
 */
public final class AtRestChunkSource implements ChunkSource {
    private static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private record Stamp(long size, FileTime modified, Object key) {}

    private final String poolId;
    private final Path dataDir;
    private final List<SourceChunk> chunks;
    private final Map<Path, Stamp> stamps = new LinkedHashMap<>();
    private final byte[] keySlot;
    private List<List<String>> vdevs = List.of();

    private AtRestChunkSource(String poolId, Path dataDir, List<SourceChunk> chunks, byte[] slot)
            throws IOException {
        this.poolId = poolId;
        this.dataDir = dataDir;
        this.chunks = List.copyOf(chunks);
        this.keySlot = slot;
        for (SourceChunk c : chunks) {
            stamps.put(c.file(), stamp(c.file()));
        }
    }

    /**
     * Opens the chunks of {@code poolId} in a crypto-device-service data folder.
     *
     * @throws IllegalArgumentException if the folder holds no chunk or no key slot of that pool
     */
    public static AtRestChunkSource open(Path dataDir, String poolId) throws IOException {
        Path records = dataDir.resolve("records");
        Path slotFile = dataDir.resolve("keys").resolve(poolId + ".slot");
        if (!Files.isRegularFile(slotFile)) {
            throw new IllegalArgumentException(
                    "no key slot of pool " + poolId + " in " + dataDir.resolve("keys"));
        }
        List<SourceChunk> chunks = new ArrayList<>();
        if (Files.isDirectory(records)) {
            try (Stream<Path> files = Files.list(records)) {
                for (Path record : (Iterable<Path>) files.sorted()::iterator) {
                    if (!record.getFileName().toString().endsWith(".json")) {
                        continue;
                    }
                    JsonNode node = JSON.readTree(record.toFile());
                    if (!poolId.equals(node.path("poolId").asText())) {
                        continue;
                    }
                    String chunkId = node.path("chunkId").asText();
                    Path file = dataDir.resolve("chunks").resolve(chunkId);
                    if (!Files.isRegularFile(file)) {
                        throw new IOException(
                                "chunk " + chunkId + " of pool " + poolId + " has no file " + file);
                    }
                    chunks.add(new SourceChunk(chunkId, file, Files.size(file)));
                }
            }
        }
        if (chunks.isEmpty()) {
            throw new IllegalArgumentException("no chunk of pool " + poolId + " in " + dataDir);
        }
        chunks.sort(Comparator.comparing(SourceChunk::chunkId));
        return new AtRestChunkSource(poolId, dataDir, chunks, Files.readAllBytes(slotFile));
    }

    @Override
    public String poolId() {
        return poolId;
    }

    @Override
    public List<SourceChunk> chunks() {
        return chunks;
    }

    @Override
    public byte[] keySlot() {
        return keySlot.clone();
    }

    /**
     * The pool's vdevs (chunk ids by column) as pool-service keeps them for an exported pool: a
     * restore needs them to tell, before anything changes, whether RAID-Z2 can rebuild what a
     * damaged target lost. Chunks of a vdev that this folder lacks are refused.
     */
    public AtRestChunkSource withVdevs(List<List<String>> vdevs) throws IOException {
        java.util.Set<String> here = new java.util.HashSet<>();
        chunks.forEach(c -> here.add(c.chunkId()));
        for (List<String> v : vdevs) {
            for (String id : v) {
                if (!here.contains(id)) {
                    throw new IOException(
                            "pool-service lists chunk "
                                    + id
                                    + " in pool "
                                    + poolId
                                    + ", but "
                                    + dataDir
                                    + " has no such chunk");
                }
            }
        }
        this.vdevs = List.copyOf(vdevs);
        return this;
    }

    @Override
    public Map<String, String> layout() {
        // Chunk files alone say nothing of vdevs; pool-service's record of the pool does.
        Map<String, String> shape = new LinkedHashMap<>();
        shape.put("capture", "at-rest");
        if (!vdevs.isEmpty()) {
            shape.put("vdevs", Integer.toString(vdevs.size()));
            for (int v = 0; v < vdevs.size(); v++) {
                shape.put("vdev." + v, String.join(",", vdevs.get(v)));
            }
        }
        return shape;
    }

    @Override
    public String description() {
        return "chunk files at rest in " + dataDir;
    }

    @Override
    public void checkUnchanged() throws IOException {
        for (Map.Entry<Path, Stamp> e : stamps.entrySet()) {
            if (!stamp(e.getKey()).equals(e.getValue())) {
                throw new IOException(
                        "chunk file "
                                + e.getKey().getFileName()
                                + " changed during the capture: the pool is in use; export it, or"
                                + " sync through a snapshot source");
            }
        }
    }

    @Override
    public void close() {}

    private static Stamp stamp(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        return new Stamp(a.size(), a.lastModifiedTime(), a.fileKey());
    }
}
