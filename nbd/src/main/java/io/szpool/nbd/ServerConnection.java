package io.szpool.nbd;

import static io.szpool.nbd.Protocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLException;

/**
 * One client connection on the server side: its reader thread runs the handshake, then reads
 * requests and hands them to the connection's workers, which run them against the device and send
 * the replies, in whatever order they complete.
 */
final class ServerConnection {
    /** Credits every request costs at least, so small requests are bounded in number too. */
    static final int MIN_COST = 64 << 10;

    /** Reads up to this size may run on the reader thread (see {@link #inline}). */
    private static final int SMALL_READ = 64 << 10;

    /**
     * Handing a request to a worker costs a thread wake-up, tens of microseconds on a busy host; a
     * device that answers small reads faster than this (page cache, memory) is better served on the
     * reader thread itself.
     */
    private static final long INLINE_BELOW_NANOS = 30_000;

    private static final int MAX_OPTION_LENGTH = 64 << 10;
    private static final int MAX_OPTIONS = 1024;
    private static final int MAX_MESSAGE = 256;

    private final NbdServer server;
    private final ListenerConfig listener;
    private final SocketChannel channel;
    private final long id;
    private final String peer;
    private final BufferPool buffers;

    private final FrameReader frames;

    private final ReentrantLock sendLock = new ReentrantLock();
    private final ByteBuffer replyHeader = ByteBuffer.allocateDirect(512);
    private final ByteBuffer[] replyPair = new ByteBuffer[2];
    private final ByteBuffer[] replyOne = new ByteBuffer[1];

    private final Semaphore credits;

    /** The reader plus every request in flight; whoever brings it to zero cleans up. */
    private final AtomicInteger references = new AtomicInteger(1);

    private volatile Wire wire;
    private volatile Export export;
    private volatile boolean closed;
    private boolean structuredReplies;
    private ThreadPoolExecutor workers;
    private Executor executor;

    ServerConnection(NbdServer server, ListenerConfig listener, SocketChannel channel, long id)
            throws IOException {
        this.server = server;
        this.listener = listener;
        this.channel = channel;
        this.id = id;
        this.peer = String.valueOf(channel.getRemoteAddress());
        this.buffers = server.buffers();
        this.wire = Wire.of(channel);
        this.frames = new FrameReader(wire);
        this.credits = new Semaphore(server.settings().creditsPerConnection());
    }

    void start() {
        Thread reader = new Thread(this::run, "nbd-conn-" + id);
        reader.setDaemon(true);
        reader.start();
    }

    Export export() {
        return export;
    }

    private void run() {
        ScheduledFuture<?> deadline = null;
        try {
            deadline =
                    server.timer()
                            .schedule(
                                    this::handshakeTimedOut,
                                    server.settings().handshakeTimeout().toMillis(),
                                    TimeUnit.MILLISECONDS);
            Export chosen = handshake();
            deadline.cancel(false);
            if (chosen != null) {
                startTransmission(chosen);
                transmit();
            }
        } catch (EOFException | ClosedChannelException e) {
            NbdServer.LOG.log(Level.DEBUG, () -> "connection " + peer + " closed: " + e);
        } catch (ProtocolViolation | SSLException e) {
            NbdServer.LOG.log(Level.INFO, () -> "dropping " + peer + ": " + e.getMessage());
            closeHard();
        } catch (IOException e) {
            NbdServer.LOG.log(Level.DEBUG, () -> "connection " + peer + " failed: " + e);
            closeHard();
        } catch (RuntimeException | Error e) {
            NbdServer.LOG.log(Level.WARNING, "connection " + peer + " crashed", e);
            closeHard();
        } finally {
            if (deadline != null) {
                deadline.cancel(false);
            }
            release();
        }
    }

    private void handshakeTimedOut() {
        if (export == null) {
            NbdServer.LOG.log(Level.INFO, () -> "handshake timed out: " + peer);
            closeHard();
        }
    }

    /** Hard disconnect: in-flight requests finish against the device, their replies are lost. */
    void closeHard() {
        closed = true;
        NbdServer.closeQuietly(wire);
        NbdServer.closeQuietly(channel);
    }

    private void release() {
        if (references.decrementAndGet() == 0) {
            closeHard();
            if (workers != null) {
                workers.shutdown();
            }
            Export e = export;
            if (e != null) {
                e.metrics().connectionClosed();
            }
            server.connectionEnded(this);
        }
    }

    // ---------------------------------------------------------------- handshake

    /** Runs option haggling; returns the export to serve, or null if the client went away. */
    private Export handshake() throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        greeting.putLong(NBDMAGIC).putLong(IHAVEOPT);
        greeting.putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip();
        wire.write(greeting);
        ByteBuffer in = frames.need(4);
        int clientFlags = in.getInt();
        if ((clientFlags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) != 0) {
            throw new ProtocolViolation("unknown client flags " + Integer.toHexString(clientFlags));
        }
        boolean noZeroes = (clientFlags & FLAG_C_NO_ZEROES) != 0;
        boolean fixed = (clientFlags & FLAG_C_FIXED_NEWSTYLE) != 0;

        for (int count = 0; ; count++) {
            if (count >= MAX_OPTIONS) {
                throw new ProtocolViolation("too many options");
            }
            in = frames.need(16);
            if (in.getLong() != IHAVEOPT) {
                throw new ProtocolViolation("bad option magic");
            }
            int option = in.getInt();
            long length = in.getInt() & 0xffffffffL;
            boolean tlsPending = listener.tlsRequired() && !wire.isTls();

            if (option == OPT_EXPORT_NAME) {
                if (length > MAX_STRING) {
                    throw new ProtocolViolation("export name too long");
                }
                String name = frames.readString((int) length);
                Export chosen = tlsPending ? null : server.resolve(name, listener);
                if (chosen == null) {
                    // EXPORT_NAME cannot carry an error: the protocol says drop the connection.
                    throw new ProtocolViolation("refused export '" + name + "'");
                }
                ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
                reply.putLong(chosen.device().size());
                reply.putShort((short) chosen.transmissionFlags());
                wire.write(reply.position(reply.capacity()).flip());
                return chosen;
            }
            if (length > MAX_OPTION_LENGTH) {
                frames.skip(length);
                optionReply(option, REP_ERR_INVALID, "option data too long");
                continue;
            }
            if (option == OPT_ABORT) {
                frames.skip(length);
                optionAck(option);
                return null;
            }
            if (!fixed) {
                // Plain newstyle clients know only EXPORT_NAME; anything else breaks framing.
                throw new ProtocolViolation("option " + option + " without fixed newstyle");
            }
            if (tlsPending && option != OPT_STARTTLS) {
                frames.skip(length);
                optionReply(option, REP_ERR_TLS_REQD, "TLS required");
                continue;
            }
            switch (option) {
                case OPT_LIST -> {
                    frames.skip(length);
                    if (length != 0) {
                        optionReply(option, REP_ERR_INVALID, "LIST takes no data");
                    } else {
                        for (Export e : server.exportsFor(listener)) {
                            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
                            ByteBuffer data = ByteBuffer.allocate(4 + name.length);
                            data.putInt(name.length).put(name).flip();
                            optionReply(option, REP_SERVER, data);
                        }
                        optionAck(option);
                    }
                }
                case OPT_STARTTLS -> {
                    frames.skip(length);
                    if (listener.tls() == null) {
                        optionReply(option, REP_ERR_UNSUP, "TLS not configured");
                    } else if (wire.isTls() || length != 0) {
                        optionReply(option, REP_ERR_INVALID, "TLS already on, or data given");
                    } else {
                        optionAck(option);
                        if (frames.hasBuffered()) {
                            throw new ProtocolViolation("data sent before TLS handshake");
                        }
                        wire = wire.startTls(listener.tls(), false, null);
                        frames.wire(wire);
                        // The protocol forbids carrying negotiated state across STARTTLS.
                        structuredReplies = false;
                    }
                }
                case OPT_STRUCTURED_REPLY -> {
                    frames.skip(length);
                    if (length != 0) {
                        optionReply(option, REP_ERR_INVALID, "STRUCTURED_REPLY takes no data");
                    } else {
                        structuredReplies = true;
                        optionAck(option);
                    }
                }
                case OPT_INFO, OPT_GO -> {
                    Export chosen = info(option, (int) length);
                    if (chosen != null && option == OPT_GO) {
                        return chosen;
                    }
                }
                default -> {
                    frames.skip(length);
                    optionReply(option, REP_ERR_UNSUP, "unsupported " + optionName(option));
                }
            }
        }
    }

    /** Answers INFO or GO; returns the export when the reply was a success. */
    private Export info(int option, int length) throws IOException {
        if (length < 6) {
            frames.skip(length);
            optionReply(option, REP_ERR_INVALID, "option data too short");
            return null;
        }
        ByteBuffer in = frames.need(4);
        long nameLength = in.getInt() & 0xffffffffL;
        if (nameLength > MAX_STRING || nameLength > length - 6) {
            frames.skip(length - 4);
            optionReply(option, REP_ERR_INVALID, "bad name length");
            return null;
        }
        String name = frames.readString((int) nameLength);
        in = frames.need(2);
        int requests = in.getShort() & 0xffff;
        int rest = length - 6 - (int) nameLength;
        if (rest != 2 * requests) {
            frames.skip(rest);
            optionReply(option, REP_ERR_INVALID, "bad information request count");
            return null;
        }
        boolean wantName = false;
        for (int i = 0; i < requests; i++) {
            in = frames.need(2);
            wantName |= in.getShort() == INFO_NAME;
        }
        Export chosen = server.resolve(name, listener);
        if (chosen == null) {
            optionReply(option, REP_ERR_UNKNOWN, "no such export");
            return null;
        }
        BlockDevice device = chosen.device();
        ByteBuffer exportInfo = ByteBuffer.allocate(12);
        exportInfo.putShort((short) INFO_EXPORT).putLong(device.size());
        exportInfo.putShort((short) chosen.transmissionFlags()).flip();
        optionReply(option, REP_INFO, exportInfo);
        // Always announced (the spec allows unrequested info), so clients see our constraints.
        BlockSizes sizes = device.blockSizes();
        ByteBuffer sizeInfo = ByteBuffer.allocate(14);
        sizeInfo.putShort((short) INFO_BLOCK_SIZE).putInt(sizes.minimum());
        sizeInfo.putInt(sizes.preferred()).putInt(sizes.maximum()).flip();
        optionReply(option, REP_INFO, sizeInfo);
        if (wantName) {
            byte[] canonical = chosen.name().getBytes(StandardCharsets.UTF_8);
            ByteBuffer nameInfo = ByteBuffer.allocate(2 + canonical.length);
            nameInfo.putShort((short) INFO_NAME).put(canonical).flip();
            optionReply(option, REP_INFO, nameInfo);
        }
        optionAck(option);
        return chosen;
    }

    private void optionAck(int option) throws IOException {
        optionReply(option, REP_ACK, (ByteBuffer) null);
    }

    private void optionReply(int option, int type, String message) throws IOException {
        ByteBuffer data = null;
        if (message != null) {
            data = ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8));
        }
        optionReply(option, type, data);
    }

    private void optionReply(int option, int type, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(20);
        header.putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type);
        header.putInt(data == null ? 0 : data.remaining()).flip();
        if (data == null) {
            wire.write(header);
        } else {
            wire.write(header, data);
        }
    }

    // ---------------------------------------------------------------- transmission

    private void startTransmission(Export chosen) {
        export = chosen;
        chosen.metrics().connectionOpened();
        int threads = server.settings().workersPerConnection();
        if (threads > 0) {
            workers =
                    new ThreadPoolExecutor(
                            threads,
                            threads,
                            10,
                            TimeUnit.SECONDS,
                            new LinkedBlockingQueue<>(),
                            r -> {
                                Thread t = new Thread(r, "nbd-conn-" + id + "-worker");
                                t.setDaemon(true);
                                return t;
                            });
            workers.allowCoreThreadTimeOut(true);
            executor = workers;
        } else {
            executor = Runnable::run;
        }
    }

    private void transmit() throws IOException {
        Export current = export;
        BlockDevice device = current.device();
        while (!closed) {
            ByteBuffer in = frames.need(REQUEST_HEADER_SIZE);
            if (in.getInt() != REQUEST_MAGIC) {
                throw new ProtocolViolation("bad request magic");
            }
            Request request = new Request();
            request.flags = in.getShort() & 0xffff;
            request.type = in.getShort() & 0xffff;
            request.handle = in.getLong();
            request.offset = in.getLong();
            request.length = in.getInt() & 0xffffffffL;
            request.received = System.nanoTime();

            if (request.type == CMD_DISC) {
                // Outstanding requests still finish; the last one out closes the connection.
                return;
            }
            int cost = (int) Math.max(MIN_COST, Math.min(request.length, MAX_PAYLOAD));
            if (request.type == CMD_WRITE) {
                if (request.length > MAX_PAYLOAD) {
                    // Reading the payload would take unbounded time or memory; error and drop.
                    replyNow(request, NbdError.EINVAL, "write larger than 32 MiB");
                    throw new ProtocolViolation("oversized write payload " + request.length);
                }
                acquireCredits(cost);
                request.data = buffers.acquire((int) request.length);
                try {
                    frames.receive(request.data);
                } catch (IOException e) {
                    buffers.release(request.data);
                    credits.release(cost);
                    throw e;
                }
                request.data.flip();
            } else {
                acquireCredits(cost);
            }
            request.cost = cost;
            NbdError invalid = validate(request, device);
            if (invalid != null) {
                replyNow(request, invalid, "invalid " + commandName(request.type));
                finish(request);
                continue;
            }
            references.incrementAndGet();
            if (inline(request, current)) {
                execute(request, current);
            } else {
                executor.execute(() -> execute(request, current));
            }
        }
    }

    /**
     * Small reads run on the reader thread while the device answers them fast; once it gets slow
     * they go to the workers again, so a slow device still sees requests in parallel. Writes always
     * go to workers: a buffered write can stall in the kernel's dirty-page throttling, and on the
     * reader that would stall the whole connection (measured: random writes at QD16 dropped to a
     * third of nbdkit's when run inline).
     */
    private boolean inline(Request r, Export current) {
        return r.type == CMD_READ
                && r.length <= SMALL_READ
                && current.metrics().smallReadNanos() < INLINE_BELOW_NANOS;
    }

    private void acquireCredits(int cost) throws IOException {
        try {
            credits.acquire(cost);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private NbdError validate(Request r, BlockDevice device) {
        int allowedFlags = CMD_FLAG_FUA;
        boolean writes = false;
        switch (r.type) {
            case CMD_READ, CMD_FLUSH -> {}
            case CMD_WRITE -> writes = true;
            case CMD_TRIM -> {
                writes = true;
                if (!device.canTrim()) {
                    return NbdError.EINVAL;
                }
            }
            case CMD_WRITE_ZEROES -> {
                writes = true;
                allowedFlags |= CMD_FLAG_NO_HOLE;
            }
            default -> {
                return NbdError.EINVAL;
            }
        }
        if ((r.flags & ~allowedFlags) != 0) {
            return NbdError.EINVAL;
        }
        if (writes && device.readOnly()) {
            return NbdError.EPERM;
        }
        if (r.type == CMD_FLUSH) {
            return null;
        }
        BlockSizes sizes = device.blockSizes();
        if ((r.type == CMD_READ || r.type == CMD_WRITE) && r.length > sizes.maximum()) {
            return NbdError.EINVAL;
        }
        if (r.offset < 0 || r.offset > device.size() - r.length) {
            return r.type == CMD_WRITE || r.type == CMD_WRITE_ZEROES
                    ? NbdError.ENOSPC
                    : NbdError.EINVAL;
        }
        if (((r.offset | r.length) & (sizes.minimum() - 1)) != 0) {
            return NbdError.EINVAL;
        }
        return null;
    }

    private void execute(Request r, Export current) {
        BlockDevice device = current.device();
        boolean fua = (r.flags & CMD_FLAG_FUA) != 0;
        NbdError error = null;
        String message = null;
        long started = System.nanoTime();
        try {
            switch (r.type) {
                case CMD_READ -> {
                    r.data = buffers.acquire((int) r.length);
                    device.read(r.offset, r.data);
                    r.data.flip();
                }
                case CMD_WRITE -> device.write(r.offset, r.data, fua);
                case CMD_FLUSH -> device.flush();
                case CMD_TRIM -> device.trim(r.offset, r.length, fua);
                case CMD_WRITE_ZEROES -> {
                    boolean mayPunchHole = (r.flags & CMD_FLAG_NO_HOLE) == 0;
                    device.writeZeroes(r.offset, r.length, mayPunchHole, fua);
                }
                default -> throw new IllegalStateException("not validated: " + r.type);
            }
        } catch (NbdException e) {
            error = e.error();
            message = e.getMessage();
        } catch (IOException e) {
            error = errorOf(e);
            message = e.getMessage();
        } catch (RuntimeException e) {
            NbdServer.LOG.log(Level.WARNING, "device " + device + " failed", e);
            error = e instanceof IllegalArgumentException ? NbdError.EINVAL : NbdError.EIO;
            message = String.valueOf(e.getMessage());
        }
        if (r.type == CMD_READ && r.length <= SMALL_READ) {
            current.metrics().recordSmallRead(System.nanoTime() - started);
        }
        try {
            reply(r, error, message);
        } catch (IOException e) {
            // The client is gone; dropping the connection is all that is left to do.
            closeHard();
        } finally {
            current.metrics()
                    .record(
                            commandOf(r.type),
                            r.length,
                            error != null,
                            System.nanoTime() - r.received);
            finish(r);
            release();
        }
    }

    private void finish(Request r) {
        if (r.data != null) {
            buffers.release(r.data);
            r.data = null;
        }
        credits.release(r.cost);
    }

    /** Replies from the reader thread, for requests refused before they reach a worker. */
    private void replyNow(Request r, NbdError error, String message) throws IOException {
        export.metrics().record(commandOf(r.type), r.length, true, System.nanoTime() - r.received);
        reply(r, error, message);
    }

    private void reply(Request r, NbdError error, String message) throws IOException {
        sendLock.lock();
        try {
            ByteBuffer header = replyHeader.clear();
            boolean withData = error == null && r.type == CMD_READ && r.length > 0;
            if (structuredReplies && error != null) {
                byte[] text = messageBytes(message);
                header.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE);
                header.putShort((short) REPLY_TYPE_ERROR).putLong(r.handle);
                header.putInt(6 + text.length).putInt(error.code());
                header.putShort((short) text.length).put(text);
            } else if (structuredReplies && withData) {
                header.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE);
                header.putShort((short) REPLY_TYPE_OFFSET_DATA).putLong(r.handle);
                header.putInt((int) (8 + r.length)).putLong(r.offset);
            } else if (structuredReplies && r.type == CMD_READ) {
                header.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE);
                header.putShort((short) REPLY_TYPE_NONE).putLong(r.handle).putInt(0);
            } else {
                header.putInt(SIMPLE_REPLY_MAGIC).putInt(error == null ? 0 : error.code());
                header.putLong(r.handle);
            }
            header.flip();
            if (withData) {
                replyPair[0] = header;
                replyPair[1] = r.data;
                wire.write(replyPair);
            } else {
                replyOne[0] = header;
                wire.write(replyOne);
            }
        } finally {
            replyPair[1] = null;
            sendLock.unlock();
        }
    }

    private static byte[] messageBytes(String message) {
        byte[] text = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        if (text.length > MAX_MESSAGE) {
            text =
                    new String(text, 0, MAX_MESSAGE, StandardCharsets.UTF_8)
                            .getBytes(StandardCharsets.UTF_8);
        }
        return text.length > MAX_MESSAGE ? new byte[0] : text;
    }

    /** The JDK reports errno only as text; ENOSPC and friends matter to clients, so map them. */
    static NbdError errorOf(IOException e) {
        String text = String.valueOf(e.getMessage());
        if (text.contains("No space left")
                || text.contains("Disk quota exceeded")
                || text.contains("File too large")) {
            return NbdError.ENOSPC;
        }
        if (text.contains("Read-only file system") || text.contains("Operation not permitted")) {
            return NbdError.EPERM;
        }
        return NbdError.EIO;
    }

    private static ExportMetrics.Command commandOf(int type) {
        return switch (type) {
            case CMD_READ -> ExportMetrics.Command.READ;
            case CMD_WRITE -> ExportMetrics.Command.WRITE;
            case CMD_FLUSH -> ExportMetrics.Command.FLUSH;
            case CMD_TRIM -> ExportMetrics.Command.TRIM;
            case CMD_WRITE_ZEROES -> ExportMetrics.Command.WRITE_ZEROES;
            default -> ExportMetrics.Command.OTHER;
        };
    }

    private static String commandName(int type) {
        return type == CMD_WRITE_ZEROES ? "WRITE_ZEROES" : commandOf(type).name();
    }

    /** One request between the reader and the reply. */
    private static final class Request {
        int flags;
        int type;
        long handle;
        long offset;
        long length;
        long received;
        int cost;
        ByteBuffer data;
    }

    /** The client broke a MUST of the protocol; the only answer is a hard disconnect. */
    static final class ProtocolViolation extends IOException {
        ProtocolViolation(String message) {
            super(message);
        }
    }
}
