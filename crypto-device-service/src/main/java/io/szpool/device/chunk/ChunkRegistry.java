package io.szpool.device.chunk;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.szpool.device.config.DeviceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The chunk records of this host: one small JSON file per chunk beside the chunk files, written
 * atomically (temporary file, then rename), read back on start.
 */
@ApplicationScoped
public class ChunkRegistry {
    private static final Logger LOG = Logger.getLogger(ChunkRegistry.class);
    private static final ObjectMapper JSON =
            JsonMapper.builder()
                    .addModule(new JavaTimeModule())
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .build();

    private final Path chunkFolder;
    private final Path recordFolder;
    private final Map<String, ChunkRecord> records = new ConcurrentHashMap<>();

    public ChunkRegistry(DeviceConfig config) {
        Path data = config.dataDir().toAbsolutePath();
        this.chunkFolder = data.resolve("chunks");
        this.recordFolder = data.resolve("records");
        load();
    }

    private void load() {
        if (!Files.isDirectory(recordFolder)) {
            return;
        }
        try (Stream<Path> files = Files.list(recordFolder)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (!file.getFileName().toString().endsWith(".json")) {
                    continue;
                }
                try {
                    ChunkRecord r = JSON.readValue(file.toFile(), ChunkRecord.class);
                    records.put(r.chunkId(), r);
                } catch (IOException e) {
                    LOG.errorf("ignoring unreadable chunk record %s: %s", file, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk records in " + recordFolder, e);
        }
    }

    public Path chunkFile(String chunkId) {
        return chunkFolder.resolve(chunkId);
    }

    public Path chunkFolder() {
        return chunkFolder;
    }

    public Optional<ChunkRecord> find(String chunkId) {
        return Optional.ofNullable(records.get(chunkId));
    }

    public List<ChunkRecord> all() {
        return records.values().stream()
                .sorted(
                        Comparator.comparing(ChunkRecord::createdAt)
                                .thenComparing(ChunkRecord::chunkId))
                .toList();
    }

    public List<ChunkRecord> byRequest(String requestId) {
        return all().stream().filter(r -> requestId.equals(r.requestId())).toList();
    }

    public void save(ChunkRecord record) {
        try {
            Files.createDirectories(recordFolder);
            Path target = recordFolder.resolve(record.chunkId() + ".json");
            Path temp = recordFolder.resolve(record.chunkId() + ".json.tmp");
            JSON.writeValue(temp.toFile(), record);
            try {
                Files.move(
                        temp,
                        target,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            records.put(record.chunkId(), record);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot save the record of chunk " + record.chunkId(), e);
        }
    }

    /** Forgets a chunk's record and leaves its file (undoing an adoption moves the file back). */
    public void forget(String chunkId) {
        try {
            Files.deleteIfExists(recordFolder.resolve(chunkId + ".json"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the record of chunk " + chunkId, e);
        }
        records.remove(chunkId);
    }

    /** Forgets a chunk and deletes its file. */
    public void remove(String chunkId) throws IOException {
        Files.deleteIfExists(chunkFile(chunkId));
        Files.deleteIfExists(recordFolder.resolve(chunkId + ".json"));
        records.remove(chunkId);
    }
}
