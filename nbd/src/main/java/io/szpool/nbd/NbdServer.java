package io.szpool.nbd;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An NBD server (fixed newstyle handshake) that serves named exports, each backed by a {@link
 * BlockDevice}, on any number of listeners. Exports can be added and removed while it runs.
 *
 * <p>See {@code nbd/DESIGN.md} for the threading model and the ordering guarantees.
 */
public final class NbdServer implements AutoCloseable {
    static final System.Logger LOG = System.getLogger(NbdServer.class.getName());

    private final Settings settings;
    private final Map<String, Export> exports = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final Set<ServerConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final BufferPool buffers;
    private final ScheduledExecutorService timer;
    private volatile String defaultExport;
    private volatile boolean closed;

    /**
     * Tunables. {@code workersPerConnection}: threads that run one connection's requests in
     * parallel (0 runs them on the connection's reader thread, one at a time). {@code
     * creditsPerConnection}: bytes of request payload a connection may have in flight before the
     * server stops reading from it. {@code maxConnections}: connections beyond are closed at once.
     * {@code handshakeTimeout}: a client that has not finished the handshake by then is dropped.
     */
    public record Settings(
            int workersPerConnection,
            int creditsPerConnection,
            int maxConnections,
            Duration handshakeTimeout) {
        /**
         * Workers default to twice the CPUs (at least 4): enough to overlap device latency, few
         * enough that page-cache-speed requests are not dominated by thread handoffs (16 per
         * connection measured markedly slower than 4 on a 2-CPU host; see DESIGN.md).
         */
        public static Settings defaults() {
            int workers = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
            return new Settings(workers, 64 << 20, 256, Duration.ofSeconds(30));
        }

        public Settings {
            if (creditsPerConnection < Protocol.MAX_PAYLOAD + ServerConnection.MIN_COST) {
                throw new IllegalArgumentException("credits must admit one maximal request");
            }
        }

        public Settings withWorkersPerConnection(int workers) {
            return new Settings(workers, creditsPerConnection, maxConnections, handshakeTimeout);
        }

        public Settings withMaxConnections(int max) {
            return new Settings(workersPerConnection, creditsPerConnection, max, handshakeTimeout);
        }

        public Settings withHandshakeTimeout(Duration timeout) {
            return new Settings(
                    workersPerConnection, creditsPerConnection, maxConnections, timeout);
        }
    }

    public NbdServer() {
        this(Settings.defaults());
    }

    public NbdServer(Settings settings) {
        this.settings = settings;
        // 64 MiB of idle buffers per size class: a RAID-Z2 vdev keeps some 48 writes of 1 MiB in
        // flight to one device server (six connections, a group's runs pipelined on each); with
        // 16 MiB nearly every one of them allocated a fresh direct buffer, whose zeroing and first
        // touch were 4-7% of both services' CPU (pool-service README, Speed).
        this.buffers = new BufferPool(64L << 20);
        this.timer =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "nbd-handshake-timer");
                            t.setDaemon(true);
                            return t;
                        });
    }

    /** Serves {@code device} under {@code name}; the caller keeps ownership of the device. */
    public void addExport(String name, BlockDevice device) {
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > Protocol.MAX_STRING) {
            throw new IllegalArgumentException("export name longer than 4096 bytes");
        }
        if (exports.putIfAbsent(name, new Export(name, device)) != null) {
            throw new IllegalArgumentException("export exists: " + name);
        }
    }

    /**
     * Stops serving an export and drops its connections; returns its device (not closed), or null.
     */
    public BlockDevice removeExport(String name) {
        Export export = exports.remove(name);
        if (export == null) {
            return null;
        }
        for (ServerConnection c : connections) {
            if (c.export() == export) {
                c.closeHard();
            }
        }
        return export.device();
    }

    /** The export a client gets when it asks for the empty name. */
    public void setDefaultExport(String name) {
        this.defaultExport = name;
    }

    public Set<String> exportNames() {
        return Set.copyOf(exports.keySet());
    }

    /** Metrics of one export, or null if there is no such export. */
    public ExportMetrics.Snapshot metrics(String export) {
        Export e = exports.get(export);
        return e == null ? null : e.metrics().snapshot();
    }

    public Map<String, ExportMetrics.Snapshot> metrics() {
        Map<String, ExportMetrics.Snapshot> all = new TreeMap<>();
        exports.forEach((name, e) -> all.put(name, e.metrics().snapshot()));
        return all;
    }

    /** Connections currently open, in handshake or transmission. */
    public int connectionCount() {
        return connectionCount.get();
    }

    /** Starts accepting connections as configured; returns the bound listener. */
    public Listener listen(ListenerConfig config) throws IOException {
        if (closed) {
            throw new IllegalStateException("server closed");
        }
        ServerSocketChannel server = ServerSocketChannel.open();
        server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        server.bind(config.address(), 128);
        Listener listener = new Listener(server, config);
        listeners.add(listener);
        Thread acceptor =
                new Thread(listener::acceptLoop, "nbd-accept-" + listener.address().getPort());
        acceptor.setDaemon(true);
        acceptor.start();
        return listener;
    }

    Export resolve(String requested, ListenerConfig listener) {
        String name = requested;
        if (name.isEmpty() && !exports.containsKey("") && defaultExport != null) {
            name = defaultExport;
        }
        Export export = exports.get(name);
        return export != null && listener.allows(export.name()) ? export : null;
    }

    List<Export> exportsFor(ListenerConfig listener) {
        List<Export> visible = new ArrayList<>();
        for (Export e : exports.values()) {
            if (listener.allows(e.name())) {
                visible.add(e);
            }
        }
        return visible;
    }

    BufferPool buffers() {
        return buffers;
    }

    Settings settings() {
        return settings;
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    boolean isClosed() {
        return closed;
    }

    void connectionEnded(ServerConnection connection) {
        if (connections.remove(connection)) {
            connectionCount.decrementAndGet();
        }
    }

    /** Stops listening, drops every connection; devices stay open (the caller owns them). */
    @Override
    public void close() {
        closed = true;
        for (Listener l : listeners) {
            l.close();
        }
        for (ServerConnection c : connections) {
            c.closeHard();
        }
        timer.shutdownNow();
    }

    /** One bound socket and its accept thread. */
    public final class Listener implements AutoCloseable {
        private final ServerSocketChannel socket;
        private final ListenerConfig config;
        private final InetSocketAddress address;

        Listener(ServerSocketChannel socket, ListenerConfig config) throws IOException {
            this.socket = socket;
            this.config = config;
            this.address = (InetSocketAddress) socket.getLocalAddress();
        }

        public InetSocketAddress address() {
            return address;
        }

        public int port() {
            return address.getPort();
        }

        private void acceptLoop() {
            while (socket.isOpen()) {
                SocketChannel client;
                try {
                    client = socket.accept();
                } catch (AsynchronousCloseException e) {
                    return;
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "accept failed on " + address, e);
                    if (!socket.isOpen()) {
                        return;
                    }
                    continue;
                }
                admit(client);
            }
        }

        private void admit(SocketChannel client) {
            if (closed || connectionCount.incrementAndGet() > settings.maxConnections()) {
                connectionCount.decrementAndGet();
                closeQuietly(client);
                return;
            }
            try {
                client.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ServerConnection connection =
                        new ServerConnection(
                                NbdServer.this, config, client, connectionIds.incrementAndGet());
                connections.add(connection);
                connection.start();
            } catch (IOException | RuntimeException | Error e) {
                connectionCount.decrementAndGet();
                LOG.log(Level.WARNING, "cannot start connection", e);
                closeQuietly(client);
            }
        }

        @Override
        public void close() {
            closeQuietly(socket);
            listeners.remove(this);
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // Closing is best effort; the peer is gone either way.
        }
    }
}
