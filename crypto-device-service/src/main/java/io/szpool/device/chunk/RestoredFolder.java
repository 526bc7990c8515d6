package io.szpool.device.chunk;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.szpool.service.ProblemException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A folder that sync-service's restore laid out for this service (see its {@code GenerationStore}
 * {@code restore}): {@code keys/<poolId>.slot}, {@code records/<chunkId>.json} in {@link
 * ChunkRecord}'s format, {@code chunks/<chunkId>} for intact images and {@code damaged/<chunkId>}
 * for images that failed their digest. A chunk with a record and no image is one the backup lost.
 * Reading it validates everything and changes nothing, so an adoption can refuse before it moves a
 * file.
 */
public final class RestoredFolder {
    public static final String INTACT = "intact";
    public static final String DAMAGED = "damaged";
    public static final String MISSING = "missing";

    private static final Pattern CHUNK_ID = Pattern.compile("[0-9a-f]{32}");
    private static final ObjectMapper JSON =
            JsonMapper.builder()
                    .addModule(new JavaTimeModule())
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .build();

    /**
     * One chunk of the folder: its record (key id filled in later when the folder had none), what
     * the restore found, and its image, null when missing.
     */
    public record Entry(ChunkRecord record, String restored, Path image) {}

    private final Path root;
    private final String poolId;
    private final Path slotFile;
    private final List<Entry> entries;

    private RestoredFolder(Path root, String poolId, Path slotFile, List<Entry> entries) {
        this.root = root;
        this.poolId = poolId;
        this.slotFile = slotFile;
        this.entries = List.copyOf(entries);
    }

    public Path root() {
        return root;
    }

    public String poolId() {
        return poolId;
    }

    public Path slotFile() {
        return slotFile;
    }

    /** The chunks, ordered by chunk id. */
    public List<Entry> entries() {
        return entries;
    }

    /**
     * Reads and validates the folder named in a request; {@code dataDir} is this service's own data
     * folder, which is never a restored folder. 400 for anything that is not what a restore writes,
     * 404 when the folder does not exist.
     */
    public static RestoredFolder read(String folder, Path dataDir) {
        if (folder == null || folder.isBlank()) {
            throw ProblemException.badRequest(
                    "folder is required: the absolute path of a folder a restore laid out");
        }
        Path root = Path.of(folder);
        if (!root.isAbsolute()) {
            throw ProblemException.badRequest(
                    "folder must be an absolute path on this host, was '" + folder + "'");
        }
        root = root.normalize();
        if (!Files.exists(root)) {
            throw ProblemException.notFound("folder " + root + " does not exist on this host");
        }
        if (!Files.isDirectory(root)) {
            throw notRestored(root, "it is not a directory");
        }
        Path data = dataDir.toAbsolutePath().normalize();
        if (root.startsWith(data) || data.startsWith(root)) {
            throw ProblemException.badRequest(
                    "folder "
                            + root
                            + " overlaps this service's data folder "
                            + data
                            + "; restore into a folder of its own");
        }
        try {
            return readValidated(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the restored folder " + root, e);
        }
    }

    private static RestoredFolder readValidated(Path root) throws IOException {
        List<Path> slots = list(root.resolve("keys"), ".slot");
        if (slots.isEmpty()) {
            throw notRestored(root, "it has no key slot keys/<poolId>.slot");
        }
        if (slots.size() > 1) {
            throw notRestored(
                    root, "it has " + slots.size() + " key slots in keys/; a restore writes one");
        }
        Path slotFile = slots.get(0);
        String slotName = slotFile.getFileName().toString();
        String poolId = slotName.substring(0, slotName.length() - ".slot".length());
        ChunkSpec.requirePoolId(poolId);

        Map<String, ChunkRecord> records = new TreeMap<>();
        for (Path file : list(root.resolve("records"), ".json")) {
            ChunkRecord r = parse(root, file);
            String name = file.getFileName().toString();
            if (r.chunkId() == null || !name.equals(r.chunkId() + ".json")) {
                throw notRestored(root, "records/" + name + " holds chunk " + r.chunkId());
            }
            requireChunkId(root, "records/" + name, r.chunkId());
            if (!poolId.equals(r.poolId())) {
                throw notRestored(
                        root,
                        "records/"
                                + name
                                + " is a chunk of pool "
                                + r.poolId()
                                + ", the key slot is pool "
                                + poolId
                                + "'s");
            }
            requireSize(root, "records/" + name, r.sizeBytes());
            records.put(r.chunkId(), r);
        }
        Map<String, Path> intact = images(root, "chunks");
        Map<String, Path> damaged = images(root, "damaged");
        for (String id : intact.keySet()) {
            if (damaged.containsKey(id)) {
                throw notRestored(root, "chunk " + id + " is in both chunks/ and damaged/");
            }
            if (!records.containsKey(id)) {
                throw notRestored(root, "chunks/" + id + " has no record in records/");
            }
        }
        // A restore before records were written for every chunk left damaged images without one:
        // they take the pool's chunk size when the records agree on it.
        Set<Long> sizes = new TreeSet<>();
        records.values().forEach(r -> sizes.add(r.sizeBytes()));
        for (String id : damaged.keySet()) {
            if (!records.containsKey(id)) {
                if (sizes.size() != 1) {
                    throw notRestored(
                            root,
                            "damaged/"
                                    + id
                                    + " has no record, and the records do not agree on one chunk"
                                    + " size to give it");
                }
                records.put(
                        id,
                        new ChunkRecord(
                                id,
                                poolId,
                                sizes.iterator().next(),
                                true,
                                null,
                                "adopt-" + poolId,
                                false,
                                Instant.now(),
                                null));
            }
        }
        if (records.isEmpty()) {
            throw notRestored(root, "it names no chunk (records/ is empty)");
        }
        List<Entry> entries = new ArrayList<>();
        for (ChunkRecord r : records.values()) {
            Path image = intact.get(r.chunkId());
            String state = INTACT;
            if (image == null) {
                image = damaged.get(r.chunkId());
                state = image == null ? MISSING : DAMAGED;
            } else if (Files.size(image) != r.sizeBytes()) {
                throw notRestored(
                        root,
                        "chunks/"
                                + r.chunkId()
                                + " has "
                                + Files.size(image)
                                + " bytes, its record says "
                                + r.sizeBytes()
                                + " (a restore puts images of the wrong size in damaged/)");
            }
            entries.add(new Entry(r, state, image));
        }
        return new RestoredFolder(root, poolId, slotFile, entries);
    }

    private static ChunkRecord parse(Path root, Path file) {
        try {
            return JSON.readValue(file.toFile(), ChunkRecord.class);
        } catch (IOException e) {
            throw notRestored(
                    root,
                    "records/"
                            + file.getFileName()
                            + " is not a chunk record: "
                            + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    /** The chunk images in a sub-folder by chunk id; every entry must be a regular file. */
    private static Map<String, Path> images(Path root, String sub) throws IOException {
        Map<String, Path> images = new TreeMap<>();
        Path dir = root.resolve(sub);
        if (!Files.isDirectory(dir)) {
            return images;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                requireChunkId(root, sub + "/" + name, name);
                if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    throw notRestored(root, sub + "/" + name + " is not a regular file");
                }
                images.put(name, file);
            }
        }
        return images;
    }

    private static List<Path> list(Path dir, String suffix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    private static void requireChunkId(Path root, String where, String id) {
        if (id == null || !CHUNK_ID.matcher(id).matches()) {
            throw notRestored(
                    root, where + ": '" + id + "' is not a chunk id (32 lower-case hex digits)");
        }
    }

    private static void requireSize(Path root, String where, long size) {
        if (size % ChunkSpec.MIB != 0 || size < ChunkSpec.MIN_SIZE || size > ChunkSpec.MAX_SIZE) {
            throw notRestored(
                    root,
                    where
                            + ": sizeBytes "
                            + size
                            + " is not a chunk size (1 MiB steps, 64 MiB-1 TiB)");
        }
    }

    private static ProblemException notRestored(Path root, String why) {
        return ProblemException.badRequest(
                root + " is not a folder a restore laid out for adoption: " + why);
    }
}
