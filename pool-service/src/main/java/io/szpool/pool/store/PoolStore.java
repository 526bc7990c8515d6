package io.szpool.pool.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.szpool.pool.config.PoolConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Pool state files in the data dir: {@code pools/<poolId>.json}, one per pool, and {@code
 * tombstones.json}, the ids of pools rolled back or destroyed (a chunk that turns up for one of
 * them is destroyed, not adopted). Every write goes to a temporary file, is forced to disk and then
 * renamed over the old file, so a crash leaves the old or the new state, never half of one.
 */
@ApplicationScoped
public class PoolStore {
    private final ObjectMapper json =
            new ObjectMapper()
                    .registerModule(new JavaTimeModule())
                    .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    private final Path pools;
    private final Path tombstones;

    public PoolStore(PoolConfig config) {
        this.pools = config.dataDir().resolve("pools");
        this.tombstones = config.dataDir().resolve("tombstones.json");
    }

    public synchronized List<PoolRecord> loadAll() {
        List<PoolRecord> all = new ArrayList<>();
        if (!Files.isDirectory(pools)) {
            return all;
        }
        try (Stream<Path> files = Files.list(pools)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                all.add(json.readValue(file.toFile(), PoolRecord.class));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read pool state in " + pools, e);
        }
        return all;
    }

    public synchronized void save(PoolRecord record) {
        try {
            writeAtomically(pools.resolve(record.poolId + ".json"), json.writeValueAsBytes(record));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save pool " + record.name, e);
        }
    }

    public synchronized void delete(PoolRecord record) {
        try {
            Files.deleteIfExists(pools.resolve(record.poolId + ".json"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete pool state of " + record.name, e);
        }
    }

    public synchronized Set<String> tombstones() {
        if (!Files.exists(tombstones)) {
            return new LinkedHashSet<>();
        }
        try {
            return json.readValue(
                    tombstones.toFile(), new TypeReference<LinkedHashSet<String>>() {});
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tombstones, e);
        }
    }

    public synchronized void addTombstone(String poolId) {
        Set<String> all = tombstones();
        all.add(poolId);
        try {
            writeAtomically(tombstones, json.writeValueAsBytes(all));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + tombstones, e);
        }
    }

    private static void writeAtomically(Path target, byte[] content) throws IOException {
        Files.createDirectories(target.getParent());
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel channel =
                FileChannel.open(
                        temp,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        Files.move(
                temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot sync a directory; the rename is still atomic.
        }
    }
}
