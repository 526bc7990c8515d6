package io.szpool.device.chunk;

import io.szpool.device.config.DeviceConfig;
import io.szpool.device.driver.CommandRunner;
import io.szpool.device.driver.DeviceDriver;
import io.szpool.service.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The chunk files of this host. Names are random ids, so a file's name says nothing of its pool or
 * its role in the pool, here or on a backup target.
 */
@ApplicationScoped
public class ChunkFiles {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] ZEROS = new byte[64 * 1024];
    private final Path folder;
    private final DeviceDriver driver;
    private final CommandRunner commands;

    public ChunkFiles(DeviceConfig config, DeviceDriver driver) {
        this.folder = config.dataDir().toAbsolutePath().resolve("chunks");
        this.driver = driver;
        this.commands = new CommandRunner(config.commandTimeout());
    }

    public static String newChunkId() {
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        return HexFormat.of().formatHex(id);
    }

    /**
     * Refuses a request whose chunks would not fit if they were filled: a sparse file that promises
     * space the file system does not have fails later, in the middle of a pool write. What the
     * sparse chunks already here may still grow into is promised too, so many sparse pools cannot
     * count the same free space twice.
     */
    public void checkSpace(ChunkSpec spec) {
        try {
            Files.createDirectories(folder);
            FileStore store = Files.getFileStore(folder);
            long usable = store.getUsableSpace();
            long promised = promisedBytes();
            String shortage = shortage(spec, folder, usable, promised);
            if (shortage != null) {
                throw new ProblemException(507, "Insufficient Storage", shortage);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot inspect the file system of " + folder, e);
        }
    }

    /**
     * Why the request does not fit in {@code usable} minus {@code promised}, or null if it does.
     */
    static String shortage(ChunkSpec spec, Path folder, long usable, long promised) {
        long available = Math.max(0, usable - promised);
        if (spec.totalBytes() <= available) {
            return null;
        }
        return String.format(
                "%d chunks of %s need %s but %s has %s free, of which %s may still be filled by"
                        + " the sparse chunks already on this host: %s missing",
                spec.count(),
                bytes(spec.sizeBytes()),
                bytes(spec.totalBytes()),
                folder,
                bytes(usable),
                bytes(promised),
                bytes(spec.totalBytes() - available));
    }

    /**
     * What the chunk files here could still grow into: each file's size minus its allocated blocks.
     * The JDK has no call for allocated blocks, so {@code du -ak} (POSIX: kilobytes allocated per
     * file, on Linux and illumos alike) reports them for the whole folder at once.
     */
    public long promisedBytes() throws IOException {
        Map<Path, Long> sizes = new HashMap<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(file)) {
                    sizes.put(file.toAbsolutePath(), Files.size(file));
                }
            }
        }
        if (sizes.isEmpty()) {
            return 0;
        }
        Map<Path, Long> allocated =
                parseDu(commands.check("du", "-ak", folder.toString()).stdout());
        long promised = 0;
        for (Map.Entry<Path, Long> e : sizes.entrySet()) {
            long used = allocated.getOrDefault(e.getKey(), 0L);
            promised += Math.max(0, e.getValue() - used);
        }
        return promised;
    }

    /** {@code du -ak} lines, {@code KILOBYTES<tab>PATH}, as path to allocated bytes. */
    static Map<Path, Long> parseDu(String output) {
        Map<Path, Long> allocated = new HashMap<>();
        for (String line : output.split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                try {
                    allocated.put(
                            Path.of(line.substring(tab + 1)).toAbsolutePath(),
                            Long.parseLong(line.substring(0, tab).strip()) * 1024);
                } catch (NumberFormatException e) {
                    // not a du line
                }
            }
        }
        return allocated;
    }

    /**
     * Creates one chunk file of the spec's size through the driver (sparse or allocated) and
     * returns its new chunk id.
     */
    public String create(ChunkSpec spec) throws IOException {
        Files.createDirectories(folder);
        String chunkId = newChunkId();
        Path path = folder.resolve(chunkId);
        try {
            driver.createFile(path, spec.sizeBytes(), spec.sparse());
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(path);
            throw e;
        }
        return chunkId;
    }

    /**
     * Moves a chunk image from elsewhere on this host to the chunk file of {@code chunkId}: a
     * rename on the same file system; across file systems a copy that keeps holes (all-zero
     * ciphertext is a never-written unit, so leaving it a hole changes nothing), forced to disk
     * before the source is deleted.
     */
    public Path moveIn(Path source, String chunkId) throws IOException {
        Files.createDirectories(folder);
        Path target = folder.resolve(chunkId);
        move(source, target);
        return target;
    }

    /** Moves a chunk file back out (undoing {@link #moveIn} after a later step failed). */
    public void moveOut(String chunkId, Path back) throws IOException {
        move(folder.resolve(chunkId), back);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            copySparse(from, to);
            Files.delete(from);
        }
    }

    static void copySparse(Path source, Path target) throws IOException {
        byte[] block = new byte[64 * 1024];
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
                FileChannel out =
                        FileChannel.open(
                                target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = in.size();
            ByteBuffer buffer = ByteBuffer.wrap(block);
            for (long at = 0; at < size; at += block.length) {
                buffer.clear();
                buffer.limit((int) Math.min(block.length, size - at));
                while (buffer.hasRemaining() && in.read(buffer, at + buffer.position()) >= 0) {}
                int n = buffer.position();
                if (Arrays.mismatch(block, 0, n, ZEROS, 0, n) < 0) {
                    continue; // leave a hole
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    out.write(buffer, at + buffer.position());
                }
            }
            out.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(target);
            throw e;
        }
        try {
            resize(target, Files.size(source));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(target);
            throw e;
        }
    }

    /** Gives a file the chunk's size: a damaged image may be truncated, or longer than a chunk. */
    public static void resize(Path file, long sizeBytes) throws IOException {
        // setLength grows with a hole: the missing tail reads as never written.
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            if (raf.length() != sizeBytes) {
                raf.setLength(sizeBytes);
            }
            raf.getFD().sync();
        }
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format("%.1f GiB", n / (double) (1L << 30));
        }
        return String.format("%.1f MiB", n / (double) (1L << 20));
    }
}
