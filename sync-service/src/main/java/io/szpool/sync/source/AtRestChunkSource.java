package io.szpool.sync.source;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.sync.generation.GenerationStore;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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

    /** A chunk file found in the data folder. */
    private record ChunkFile(String chunkId, Path file, long sizeBytes) {}

    private final String poolId;
    private final Path dataDir;
    private final List<ChunkFile> files;
    private final Map<Path, Stamp> stamps = new LinkedHashMap<>();
    private final byte[] keySlot;
    private final Path staging;
    private List<SourceChunk> chunks;
    private List<List<String>> vdevs = List.of();

    private AtRestChunkSource(
            String poolId, Path dataDir, List<ChunkFile> files, byte[] slot, Path staging)
            throws IOException {
        this.poolId = poolId;
        this.dataDir = dataDir;
        this.files = List.copyOf(files);
        this.keySlot = slot;
        this.staging = staging;
        for (ChunkFile c : files) {
            stamps.put(c.file(), stamp(c.file()));
        }
    }

    /**
     * Opens the chunks of {@code poolId} in a crypto-device-service data folder.
     *
     * @throws IllegalArgumentException if the folder holds no chunk or no key slot of that pool
     */
    public static AtRestChunkSource open(Path dataDir, String poolId) throws IOException {
        return open(dataDir, poolId, null);
    }

    /**
     * As above, staging changed segments in {@code staging} (created; removed by {@link #close()}),
     * or in a new temporary folder when null.
     */
    public static AtRestChunkSource open(Path dataDir, String poolId, Path staging)
            throws IOException {
        Path records = dataDir.resolve("records");
        Path slotFile = dataDir.resolve("keys").resolve(poolId + ".slot");
        if (!Files.isRegularFile(slotFile)) {
            throw new IllegalArgumentException(
                    "no key slot of pool " + poolId + " in " + dataDir.resolve("keys"));
        }
        List<ChunkFile> chunks = new ArrayList<>();
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
                    chunks.add(new ChunkFile(chunkId, file, Files.size(file)));
                }
            }
        }
        if (chunks.isEmpty()) {
            throw new IllegalArgumentException("no chunk of pool " + poolId + " in " + dataDir);
        }
        chunks.sort(Comparator.comparing(ChunkFile::chunkId));
        return new AtRestChunkSource(
                poolId,
                dataDir,
                chunks,
                Files.readAllBytes(slotFile),
                staging != null ? staging : Files.createTempDirectory("szpool-at-rest-"));
    }

    /**
     * Reads every chunk file once, segment by segment: a segment whose digest equals the previous
     * generation's is linked on the target, any other one is staged. Nothing here can say what did
     * not change, so everything is read; the change check at the end catches a writer.
     */
    @Override
    public void capture(Map<String, Previous> previous) throws IOException, InterruptedException {
        if (chunks != null) {
            throw new IllegalStateException("the chunks of pool " + poolId + " are captured");
        }
        SegmentStager stager = new SegmentStager(Files.createDirectories(staging));
        List<SourceChunk> out = new ArrayList<>();
        for (ChunkFile f : files) {
            out.add(
                    stager.stage(
                            f.chunkId(),
                            f.sizeBytes(),
                            null,
                            previous.get(f.chunkId()),
                            k -> true,
                            (offset, length) ->
                                    Channels.newInputStream(
                                            FileChannel.open(f.file(), StandardOpenOption.READ)
                                                    .position(offset))));
        }
        chunks = List.copyOf(out);
    }

    @Override
    public String poolId() {
        return poolId;
    }

    @Override
    public List<SourceChunk> chunks() {
        if (chunks == null) {
            throw new IllegalStateException("capture() first");
        }
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
        files.forEach(c -> here.add(c.chunkId()));
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
    public void close() {
        GenerationStore.deleteTree(staging);
    }

    private static Stamp stamp(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        return new Stamp(a.size(), a.lastModifiedTime(), a.fileKey());
    }
}
