package io.szpool.device.device;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.szpool.crypto.EncryptedChunkFile;
import io.szpool.crypto.XtsKey;
import io.szpool.device.config.DeviceConfig;
import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.ListenerConfig;
import io.szpool.nbd.NbdServer;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The encrypted devices of attached chunks, each an NBD export named by its chunk id on one
 * listener. This is the embedded driver's {@code losetup} + {@code cryptsetup open}.
 */
@ApplicationScoped
public class DeviceExports {
    private static final Logger LOG = Logger.getLogger(DeviceExports.class);
    private final DeviceConfig config;
    private final NbdServer server = new NbdServer();
    private NbdServer.Listener listener;

    public DeviceExports(DeviceConfig config) {
        this.config = config;
    }

    // Before the chunk service re-attaches devices on start, the listener must be up.
    void start(@Observes @Priority(1) StartupEvent event) {
        listener();
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
    public synchronized String attach(String chunkId, Path file, XtsKey key) throws IOException {
        if (!server.exportNames().contains(chunkId)) {
            BlockDevice device = new EncryptedDevice(EncryptedChunkFile.open(file, key));
            server.addExport(chunkId, device);
        }
        return address(chunkId);
    }

    /** Flushes and closes a chunk's device; its NBD clients lose the export. */
    public synchronized boolean detach(String chunkId) throws IOException {
        BlockDevice device = server.removeExport(chunkId);
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

    public synchronized boolean attached(String chunkId) {
        return server.exportNames().contains(chunkId);
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
