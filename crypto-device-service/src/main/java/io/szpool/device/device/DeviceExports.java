package io.szpool.device.device;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.szpool.crypto.EncryptedChunkFile;
import io.szpool.crypto.XtsKey;
import io.szpool.device.config.DeviceConfig;
import io.szpool.device.config.DeviceConfig.DriverKind;
import io.szpool.device.driver.DeviceDriver;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.ListenerConfig;
import io.szpool.nbd.NbdServer;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Typed;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The encrypted devices of attached chunks, each an NBD export named by its chunk id on one
 * listener. This is the embedded driver: its {@code losetup} + {@code cryptsetup open}. Typed to
 * its class so that the one {@link DeviceDriver} bean is the configured driver.
 */
@ApplicationScoped
@Typed(DeviceExports.class)
public class DeviceExports implements DeviceDriver {
    private static final Logger LOG = Logger.getLogger(DeviceExports.class);
    private final DeviceConfig config;
    private final NbdServer server = new NbdServer();
    private NbdServer.Listener listener;
    // Gates outlive the devices: a snapshot taken before a detach must still see the writes after
    // the chunk is attached again.
    private final Map<String, WriteGate> gates = new ConcurrentHashMap<>();
    private final Map<String, EncryptedDevice> devices = new ConcurrentHashMap<>();

    public DeviceExports(DeviceConfig config) {
        this.config = config;
    }

    // Before the chunk service re-attaches devices on start, the listener must be up.
    void start(@Observes @Priority(1) StartupEvent event) {
        if (config.driver() == DriverKind.EMBEDDED) {
            listener();
        }
    }

    @Override
    public Driver kind() {
        return Driver.EMBEDDED;
    }

    @Override
    public Cipher cipher() {
        return Cipher.AES_XTS_PLAIN64;
    }

    /**
     * A sparse file of the size, or one filled with zeros (which read as holes: zero ciphertext is
     * the never-written state).
     */
    @Override
    public void createFile(Path file, long sizeBytes, boolean sparse) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            if (sparse) {
                raf.setLength(sizeBytes);
            } else {
                preallocate(raf.getChannel(), sizeBytes);
            }
        } catch (IOException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    private static void preallocate(FileChannel channel, long size) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
        for (long at = 0; at < size; at += zeros.capacity()) {
            zeros.clear();
            while (zeros.hasRemaining()) {
                channel.write(zeros, at + zeros.position());
            }
        }
        channel.force(true);
    }

    private synchronized NbdServer.Listener listener() {
        if (listener == null) {
            try {
                listener =
                        server.listen(
                                ListenerConfig.loopback(0)
                                        .withAddress(
                                                new InetSocketAddress(
                                                        config.nbd().host(), config.nbd().port())));
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "cannot serve devices on "
                                + config.nbd().host()
                                + ":"
                                + config.nbd().port(),
                        e);
            }
            LOG.infof("serving chunk devices over NBD on %s", address(""));
        }
        return listener;
    }

    /** Opens a chunk file with its key and exports its decrypted device; returns the address. */
    @Override
    public synchronized String attach(String chunkId, Path file, XtsKey key) throws IOException {
        if (!server.exportNames().contains(chunkId)) {
            EncryptedChunkFile chunk =
                    EncryptedChunkFile.open(
                            file,
                            key,
                            EncryptedChunkFile.TrimMode.PUNCH_HOLE,
                            config.nbd().directIo()
                                    ? EncryptedChunkFile.IoMode.DIRECT
                                    : EncryptedChunkFile.IoMode.BUFFERED);
            if (config.nbd().directIo() && !chunk.directIo()) {
                LOG.infof("chunk %s: the file system refuses O_DIRECT; buffered I/O", chunkId);
            }
            EncryptedDevice device =
                    new EncryptedDevice(
                            chunk, gates.computeIfAbsent(chunkId, id -> new WriteGate()));
            server.addExport(chunkId, device);
            devices.put(chunkId, device);
        }
        return address(chunkId);
    }

    /** Flushes and closes a chunk's device; its NBD clients lose the export. */
    @Override
    public boolean detach(String chunkId, Path file) throws IOException {
        return detach(chunkId);
    }

    public synchronized boolean detach(String chunkId) throws IOException {
        BlockDevice device = server.removeExport(chunkId);
        devices.remove(chunkId);
        if (device == null) {
            return false;
        }
        try {
            device.flush();
        } finally {
            device.close();
        }
        return true;
    }

    @Override
    public Optional<String> address(String chunkId, Path file) {
        return attached(chunkId) ? Optional.of(address(chunkId)) : Optional.empty();
    }

    public synchronized boolean attached(String chunkId) {
        return server.exportNames().contains(chunkId);
    }

    /** The open device of an attached chunk. */
    public synchronized Optional<EncryptedDevice> device(String chunkId) {
        return Optional.ofNullable(devices.get(chunkId));
    }

    /**
     * Runs {@code action} while no chunk is attached or detached, so that the devices it looked up
     * stay the ones being served.
     */
    public synchronized <T> T whileAttachmentsStay(java.util.function.Supplier<T> action) {
        return action.get();
    }

    public Set<String> attachedIds() {
        return server.exportNames();
    }

    /** {@code nbd://HOST:PORT/CHUNK_ID}, the address pool-service opens. */
    public String address(String chunkId) {
        return "nbd://" + config.nbd().host() + ":" + listener().port() + "/" + chunkId;
    }

    void stop(@Observes ShutdownEvent event) {
        for (String chunkId : Set.copyOf(server.exportNames())) {
            try {
                detach(chunkId);
            } catch (IOException e) {
                LOG.errorf("flushing chunk %s on shutdown failed: %s", chunkId, e.getMessage());
            }
        }
        server.close();
    }
}
