package io.szpool.device.driver;

import io.szpool.crypto.XtsKey;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How this host turns a chunk file into an encrypted block device: {@code mkfile} + {@code
 * lofiadm}, {@code truncate} + {@code losetup} + {@code cryptsetup}, or userspace XTS over NBD. One
 * implementation is active per host, chosen by {@code szpool.device.driver}.
 */
public interface DeviceDriver {

    /** What {@code ChunkCreated.driver} says. */
    Driver kind();

    /** The cipher the device applies, what {@code ChunkCreated.cipher} says. */
    Cipher cipher();

    /** Creates a chunk file of {@code sizeBytes}: sparse, or with every block allocated. */
    void createFile(Path file, long sizeBytes, boolean sparse) throws IOException;

    /**
     * Opens the chunk file as a decrypted block device and returns its address. Attaching an
     * attached chunk returns the same address and changes nothing.
     */
    String attach(String chunkId, Path file, XtsKey key) throws IOException;

    /** Flushes and removes the chunk's device; false when it was not attached. */
    boolean detach(String chunkId, Path file) throws IOException;

    /** The device address while the chunk is attached. */
    Optional<String> address(String chunkId, Path file) throws IOException;
}
