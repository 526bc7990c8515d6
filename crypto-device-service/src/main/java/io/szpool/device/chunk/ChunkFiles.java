package io.szpool.device.chunk;

import io.szpool.device.config.DeviceConfig;
import io.szpool.service.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The chunk files of this host. Names are random ids, so a file's name says nothing of its pool or
 * its role in the pool, here or on a backup target.
 */
@ApplicationScoped
public class ChunkFiles {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Path folder;

    public ChunkFiles(DeviceConfig config) {
        this.folder = config.dataDir().toAbsolutePath().resolve("chunks");
    }

    public static String newChunkId() {
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        return HexFormat.of().formatHex(id);
    }

    /**
     * Refuses a request whose chunks would not fit if they were filled: a sparse file that promises
     * space the file system does not have fails later, in the middle of a pool write.
     */
    public void checkSpace(ChunkSpec spec) {
        try {
            Files.createDirectories(folder);
            FileStore store = Files.getFileStore(folder);
            long usable = store.getUsableSpace();
            if (spec.totalBytes() > usable) {
                throw new ProblemException(
                        507,
                        "Insufficient Storage",
                        String.format(
                                "%d chunks of %s need %s but %s has only %s free: %s missing",
                                spec.count(),
                                bytes(spec.sizeBytes()),
                                bytes(spec.totalBytes()),
                                folder,
                                bytes(usable),
                                bytes(spec.totalBytes() - usable)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot inspect the file system of " + folder, e);
        }
    }

    /**
     * Creates one chunk file of the spec's size, sparse or filled with zeros (which read as holes:
     * zero ciphertext is the never-written state), and returns its new chunk id.
     */
    public String create(ChunkSpec spec) throws IOException {
        Files.createDirectories(folder);
        String chunkId = newChunkId();
        Path path = folder.resolve(chunkId);
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            if (spec.sparse()) {
                file.setLength(spec.sizeBytes());
            } else {
                preallocate(file.getChannel(), spec.sizeBytes());
            }
        } catch (IOException e) {
            Files.deleteIfExists(path);
            throw e;
        }
        return chunkId;
    }

    private static void preallocate(FileChannel channel, long size) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) ChunkSpec.MIB);
        for (long at = 0; at < size; at += zeros.capacity()) {
            zeros.clear();
            while (zeros.hasRemaining()) {
                channel.write(zeros, at + zeros.position());
            }
        }
        channel.force(true);
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format("%.1f GiB", n / (double) (1L << 30));
        }
        return String.format("%.1f MiB", n / (double) (1L << 20));
    }
}
