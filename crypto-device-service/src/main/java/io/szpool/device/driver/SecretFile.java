package io.szpool.device.driver;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

/**
 * A key in a file for a command that only reads keys from files ({@code lofiadm -k}): created with
 * mode 0600 before a byte is written, overwritten with zeros and deleted on close, which the caller
 * does right after the command.
 */
public final class SecretFile implements AutoCloseable {
    private final Path path;
    private final int length;

    private SecretFile(Path path, int length) {
        this.path = path;
        this.length = length;
    }

    /** Writes {@code secret} to a new 0600 file in {@code folder} and wipes the array. */
    public static SecretFile write(Path folder, byte[] secret) throws IOException {
        Files.createDirectories(folder);
        Path path =
                Files.createTempFile(
                        folder,
                        ".key-",
                        "",
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rw-------")));
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(secret);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            Files.deleteIfExists(path);
            throw e;
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
        return new SecretFile(path, secret.length);
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(length), 0);
            channel.force(true);
        } catch (IOException e) {
            // Deleting below still matters more than the overwrite.
        }
        Files.deleteIfExists(path);
    }
}
