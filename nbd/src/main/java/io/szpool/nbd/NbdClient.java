package io.szpool.nbd;

import static io.szpool.nbd.Protocol.*;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;

/**
 * A {@link BlockDevice} served by a remote NBD server over one connection. Thread-safe: any number
 * of threads may call it at once, and their requests are pipelined on the connection, up to {@code
 * maxInFlight}; a receiver thread matches replies to requests by handle.
 *
 * <p>The {@code *Async} methods return futures completed on the receiver thread; keep work chained
 * on them short or move it to an executor.
 */
public final class NbdClient implements BlockDevice {
    private static final int MAX_OPTION_REPLY = 64 << 10;

    /**
     * How to reach an export. {@code tls}: when not null, STARTTLS is required before anything else
     * is negotiated.
     */
    public record Options(
            InetSocketAddress address,
            String exportName,
            SSLContext tls,
            int maxInFlight,
            Duration connectTimeout) {
        public static Options of(String host, int port, String exportName) {
            return new Options(
                    new InetSocketAddress(host, port),
                    exportName,
                    null,
                    64,
                    Duration.ofSeconds(10));
        }

        public Options withTls(SSLContext context) {
            return new Options(address, exportName, context, maxInFlight, connectTimeout);
        }

        public Options withMaxInFlight(int max) {
            return new Options(address, exportName, tls, max, connectTimeout);
        }
    }

    private final SocketChannel channel;
    private final String exportName;
    private final Wire wire;
    private final FrameReader frames;
    private final long size;
    private final int flags;
    private final BlockSizes blockSizes;
    private final Semaphore inFlight;
    private final int maxInFlight;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong handles = new AtomicLong();
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ByteBuffer requestHeader = ByteBuffer.allocateDirect(REQUEST_HEADER_SIZE);
    private final ByteBuffer[] headerAndPayload = new ByteBuffer[2];
    private final Thread receiver;
    private volatile IOException failure;
    private volatile boolean closing;

    private NbdClient(SocketChannel channel, Options options, Handshake handshake) {
        this.channel = channel;
        this.exportName = options.exportName();
        this.wire = handshake.wire;
        this.frames = handshake.frames;
        this.size = handshake.size;
        this.flags = handshake.flags;
        this.blockSizes = handshake.blockSizes;
        this.maxInFlight = options.maxInFlight();
        this.inFlight = new Semaphore(maxInFlight);
        this.receiver = new Thread(this::receiveLoop, "nbd-client-" + exportName);
        receiver.setDaemon(true);
        receiver.start();
    }

    public static NbdClient connect(String host, int port, String exportName) throws IOException {
        return connect(Options.of(host, port, exportName));
    }

    public static NbdClient connect(Options options) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().connect(options.address(), (int) options.connectTimeout().toMillis());
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Handshake handshake = new Handshake(Wire.of(channel), options);
            handshake.run();
            return new NbdClient(channel, options, handshake);
        } catch (IOException | RuntimeException e) {
            NbdServer.closeQuietly(channel);
            throw e;
        }
    }

    /** Lists the exports a server offers (NBD_OPT_LIST). */
    public static List<String> list(String host, int port) throws IOException {
        try (SocketChannel channel = SocketChannel.open(new InetSocketAddress(host, port))) {
            Handshake handshake = new Handshake(Wire.of(channel), Options.of(host, port, ""));
            handshake.greet();
            return handshake.list();
        }
    }

    // ---------------------------------------------------------------- device

    @Override
    public long size() {
        return size;
    }

    @Override
    public BlockSizes blockSizes() {
        return blockSizes;
    }

    @Override
    public boolean readOnly() {
        return (flags & TFLAG_READ_ONLY) != 0;
    }

    @Override
    public boolean canTrim() {
        return (flags & TFLAG_SEND_TRIM) != 0;
    }

    @Override
    public boolean sharedCache() {
        return (flags & TFLAG_CAN_MULTI_CONN) != 0;
    }

    /** The transmission flags the server announced. */
    public int transmissionFlags() {
        return flags;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        await(readAsync(offset, dst));
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        await(writeAsync(offset, src, fua));
    }

    @Override
    public void flush() throws IOException {
        await(flushAsync());
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        await(trimAsync(offset, length, fua));
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayPunchHole, boolean fua)
            throws IOException {
        await(writeZeroesAsync(offset, length, mayPunchHole, fua));
    }

    /**
     * Reads into {@code dst} (which the caller must leave alone until the future completes);
     * requests beyond the server's maximum block size are split.
     */
    public CompletableFuture<Void> readAsync(long offset, ByteBuffer dst) {
        int length = dst.remaining();
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (int done = 0; done < length; ) {
            int n = Math.min(blockSizes.maximum(), length - done);
            ByteBuffer piece = dst.slice(dst.position() + done, n);
            parts.add(send(CMD_READ, 0, offset + done, n, piece));
            done += n;
        }
        if (length == 0) {
            parts.add(send(CMD_READ, 0, offset, 0, null));
        }
        dst.position(dst.limit());
        return all(parts);
    }

    public CompletableFuture<Void> writeAsync(long offset, ByteBuffer src, boolean fua) {
        boolean serverFua = fua && (flags & TFLAG_SEND_FUA) != 0;
        int length = src.remaining();
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (int done = 0; done < length || (length == 0 && done == 0); ) {
            int n = Math.min(blockSizes.maximum(), length - done);
            ByteBuffer piece = src.slice(src.position() + done, n);
            parts.add(send(CMD_WRITE, serverFua ? CMD_FLAG_FUA : 0, offset + done, n, piece));
            done += Math.max(n, 1);
        }
        src.position(src.limit());
        CompletableFuture<Void> written = all(parts);
        return fua && !serverFua ? written.thenCompose(v -> flushAsync()) : written;
    }

    public CompletableFuture<Void> flushAsync() {
        if ((flags & TFLAG_SEND_FLUSH) == 0) {
            // A server without FLUSH has no volatile cache to flush.
            return CompletableFuture.completedFuture(null);
        }
        return send(CMD_FLUSH, 0, 0, 0, null);
    }

    public CompletableFuture<Void> trimAsync(long offset, long length, boolean fua) {
        if (!canTrim()) {
            return CompletableFuture.completedFuture(null); // trim is only a hint
        }
        return sendRanges(CMD_TRIM, fua ? fuaFlag() : 0, offset, length);
    }

    public CompletableFuture<Void> writeZeroesAsync(
            long offset, long length, boolean mayPunchHole, boolean fua) {
        if ((flags & TFLAG_SEND_WRITE_ZEROES) == 0) {
            return writeZeroesByWriting(offset, length, fua);
        }
        int commandFlags = (mayPunchHole ? 0 : CMD_FLAG_NO_HOLE) | (fua ? fuaFlag() : 0);
        CompletableFuture<Void> zeroed = sendRanges(CMD_WRITE_ZEROES, commandFlags, offset, length);
        return fua && fuaFlag() == 0 ? zeroed.thenCompose(v -> flushAsync()) : zeroed;
    }

    private int fuaFlag() {
        return (flags & TFLAG_SEND_FUA) != 0 ? CMD_FLAG_FUA : 0;
    }

    private CompletableFuture<Void> writeZeroesByWriting(long offset, long length, boolean fua) {
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        ByteBuffer zeroes = ByteBuffer.allocateDirect((int) Math.min(length, 1 << 20));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(zeroes.capacity(), length - done);
            parts.add(send(CMD_WRITE, 0, offset + done, n, zeroes.slice(0, n)));
            done += n;
        }
        CompletableFuture<Void> written = all(parts);
        return fua ? written.thenCompose(v -> flushAsync()) : written;
    }

    /** Splits a payload-free range command at 2^32 - minimum block size (the length field). */
    private CompletableFuture<Void> sendRanges(int type, int commandFlags, long offset, long len) {
        long step = 0xffffffffL & ~(long) (blockSizes.minimum() - 1);
        step = Math.min(step, 1L << 30);
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (long done = 0; done < len || (len == 0 && done == 0); ) {
            long n = Math.min(step, len - done);
            parts.add(send(type, commandFlags, offset + done, n, null));
            done += Math.max(n, 1);
        }
        return all(parts);
    }

    private static CompletableFuture<Void> all(List<CompletableFuture<Void>> parts) {
        return parts.size() == 1
                ? parts.get(0)
                : CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
    }

    private static void await(CompletableFuture<Void> future) throws IOException {
        try {
            future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the NBD server");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof NbdException nbd) {
                throw new NbdException(nbd.error(), nbd.getMessage());
            }
            if (cause instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException(cause);
        }
    }

    // ---------------------------------------------------------------- transmission

    /** One request waiting for its reply. */
    private static final class Pending extends CompletableFuture<Void> {
        final int type;
        final ByteBuffer readInto;

        Pending(int type, ByteBuffer readInto) {
            this.type = type;
            this.readInto = readInto;
        }
    }

    private CompletableFuture<Void> send(
            int type, int commandFlags, long offset, long length, ByteBuffer data) {
        IOException broken = failure;
        if (broken != null || closing) {
            return CompletableFuture.failedFuture(
                    broken != null ? broken : new IOException("client closed"));
        }
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new InterruptedIOException("interrupted"));
        }
        long handle = handles.incrementAndGet();
        Pending request = new Pending(type, type == CMD_READ ? data : null);
        pending.put(handle, request);
        request.whenComplete((v, e) -> inFlight.release());
        sendLock.lock();
        try {
            if (failure != null) {
                throw failure;
            }
            ByteBuffer header = requestHeader.clear();
            header.putInt(REQUEST_MAGIC).putShort((short) commandFlags).putShort((short) type);
            header.putLong(handle).putLong(offset).putInt((int) length).flip();
            if (type == CMD_WRITE) {
                headerAndPayload[0] = header;
                headerAndPayload[1] = data.duplicate();
                wire.write(headerAndPayload);
            } else {
                wire.write(header);
            }
        } catch (IOException e) {
            fail(e);
        } finally {
            headerAndPayload[1] = null;
            sendLock.unlock();
        }
        return request;
    }

    private void receiveLoop() {
        try {
            while (true) {
                ByteBuffer in = frames.need(SIMPLE_REPLY_SIZE);
                int magic = in.getInt();
                if (magic != SIMPLE_REPLY_MAGIC) {
                    throw new IOException("unexpected reply magic " + Integer.toHexString(magic));
                }
                int error = in.getInt();
                long handle = in.getLong();
                Pending request = pending.remove(handle);
                if (request == null) {
                    throw new IOException("reply for unknown handle " + handle);
                }
                if (error != 0) {
                    NbdError e = NbdError.fromCode(error);
                    request.completeExceptionally(
                            new NbdException(e, "server refused request on " + exportName));
                    continue;
                }
                if (request.type == CMD_READ && request.readInto != null) {
                    frames.receive(request.readInto);
                }
                request.complete(null);
            }
        } catch (IOException e) {
            fail(closing ? new IOException("client closed") : e);
        } catch (RuntimeException e) {
            fail(new IOException("client receiver crashed", e));
        }
    }

    private void fail(IOException cause) {
        if (failure == null) {
            failure = cause;
        }
        NbdServer.closeQuietly(wire);
        for (Long handle : pending.keySet()) {
            Pending request = pending.remove(handle);
            if (request != null) {
                request.completeExceptionally(failure);
            }
        }
    }

    /** Waits (a bounded time) for requests in flight, then sends NBD_CMD_DISC and closes. */
    @Override
    public void close() throws IOException {
        if (closing) {
            return;
        }
        try {
            // Taking every permit means nothing is in flight.
            boolean idle = inFlight.tryAcquire(maxInFlight, 30, TimeUnit.SECONDS);
            closing = true;
            if (idle && failure == null) {
                sendLock.lock();
                try {
                    ByteBuffer header = requestHeader.clear();
                    header.putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_DISC);
                    header.putLong(handles.incrementAndGet()).putLong(0).putInt(0).flip();
                    wire.write(header);
                } catch (IOException e) {
                    // The server is gone already; closing is all that is left.
                } finally {
                    sendLock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closing = true;
            fail(new IOException("client closed"));
            NbdServer.closeQuietly(channel);
            try {
                receiver.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "nbd " + exportName + " @ " + channel.socket().getRemoteSocketAddress();
    }

    // ---------------------------------------------------------------- handshake

    /** The client side of fixed newstyle negotiation, ending in NBD_OPT_GO. */
    private static final class Handshake {
        private final Options options;
        Wire wire;
        FrameReader frames;
        boolean noZeroes;
        long size;
        int flags;
        BlockSizes blockSizes = BlockSizes.DEFAULT;

        Handshake(Wire wire, Options options) {
            this.wire = wire;
            this.frames = new FrameReader(wire);
            this.options = options;
        }

        void greet() throws IOException {
            ByteBuffer in = frames.need(18);
            if (in.getLong() != NBDMAGIC) {
                throw new IOException("not an NBD server");
            }
            if (in.getLong() != IHAVEOPT) {
                throw new IOException("server speaks oldstyle NBD only");
            }
            int serverFlags = in.getShort() & 0xffff;
            if ((serverFlags & FLAG_FIXED_NEWSTYLE) == 0) {
                throw new IOException("server lacks fixed newstyle negotiation");
            }
            noZeroes = (serverFlags & FLAG_NO_ZEROES) != 0;
            ByteBuffer reply = ByteBuffer.allocate(4);
            reply.putInt(FLAG_C_FIXED_NEWSTYLE | (noZeroes ? FLAG_C_NO_ZEROES : 0)).flip();
            wire.write(reply);
        }

        void run() throws IOException {
            greet();
            if (options.tls() != null) {
                sendOption(OPT_STARTTLS, ByteBuffer.allocate(0));
                OptionReply reply = readReply(OPT_STARTTLS);
                if (reply.type != REP_ACK) {
                    throw new IOException("server refused STARTTLS: " + reply.message());
                }
                wire = wire.startTls(options.tls(), true, options.address().getHostString());
                frames = new FrameReader(wire);
            }
            byte[] name = options.exportName().getBytes(StandardCharsets.UTF_8);
            ByteBuffer go = ByteBuffer.allocate(4 + name.length + 4);
            go.putInt(name.length).put(name).putShort((short) 1);
            go.putShort((short) INFO_BLOCK_SIZE).flip();
            sendOption(OPT_GO, go);
            boolean haveExport = false;
            while (true) {
                OptionReply reply = readReply(OPT_GO);
                if (reply.type == REP_INFO && reply.data.remaining() >= 2) {
                    int info = reply.data.getShort() & 0xffff;
                    if (info == INFO_EXPORT && reply.data.remaining() >= 10) {
                        size = reply.data.getLong();
                        flags = reply.data.getShort() & 0xffff;
                        haveExport = true;
                    } else if (info == INFO_BLOCK_SIZE && reply.data.remaining() >= 12) {
                        blockSizes =
                                sanitize(
                                        reply.data.getInt(),
                                        reply.data.getInt(),
                                        reply.data.getInt());
                    }
                } else if (reply.type == REP_ACK) {
                    if (!haveExport) {
                        throw new IOException("server sent no NBD_INFO_EXPORT");
                    }
                    return;
                } else if (reply.type == REP_ERR_UNSUP) {
                    exportName(name);
                    return;
                } else if (reply.type < 0) {
                    throw new IOException(
                            "server refused export '"
                                    + options.exportName()
                                    + "': "
                                    + reply.message());
                }
            }
        }

        /** Fallback for servers without NBD_OPT_GO. */
        private void exportName(byte[] name) throws IOException {
            sendOption(OPT_EXPORT_NAME, ByteBuffer.wrap(name));
            ByteBuffer in = frames.need(10);
            size = in.getLong();
            flags = in.getShort() & 0xffff;
            if (!noZeroes) {
                frames.skip(124);
            }
        }

        List<String> list() throws IOException {
            sendOption(OPT_LIST, ByteBuffer.allocate(0));
            List<String> names = new ArrayList<>();
            while (true) {
                OptionReply reply = readReply(OPT_LIST);
                if (reply.type == REP_SERVER && reply.data.remaining() >= 4) {
                    int length = reply.data.getInt();
                    if (length < 0 || length > reply.data.remaining()) {
                        throw new IOException("malformed NBD_REP_SERVER");
                    }
                    byte[] bytes = new byte[length];
                    reply.data.get(bytes);
                    names.add(new String(bytes, StandardCharsets.UTF_8));
                } else if (reply.type == REP_ACK) {
                    sendOption(OPT_ABORT, ByteBuffer.allocate(0));
                    return names;
                } else if (reply.type < 0) {
                    throw new IOException("LIST refused: " + reply.message());
                }
            }
        }

        private void sendOption(int option, ByteBuffer data) throws IOException {
            ByteBuffer header = ByteBuffer.allocate(16);
            header.putLong(IHAVEOPT).putInt(option).putInt(data.remaining()).flip();
            wire.write(header, data);
        }

        private OptionReply readReply(int option) throws IOException {
            ByteBuffer in = frames.need(20);
            if (in.getLong() != OPTION_REPLY_MAGIC) {
                throw new IOException("bad option reply magic");
            }
            int replyTo = in.getInt();
            int type = in.getInt();
            long length = in.getInt() & 0xffffffffL;
            if (replyTo != option || length > MAX_OPTION_REPLY) {
                throw new IOException("malformed reply to " + optionName(option));
            }
            ByteBuffer data = ByteBuffer.allocate((int) length);
            frames.receive(data);
            return new OptionReply(type, data.flip());
        }

        /** Servers may announce an unlimited maximum; we never send more than 32 MiB anyway. */
        private static BlockSizes sanitize(int minimum, int preferred, int maximum) {
            int min = Integer.bitCount(minimum) == 1 && minimum <= 65536 ? minimum : 1;
            int pref =
                    Integer.bitCount(preferred) == 1 && preferred >= Math.max(min, 512)
                            ? preferred
                            : Math.max(min, 4096);
            long max = maximum & 0xffffffffL;
            max = Math.min(max, MAX_PAYLOAD);
            max -= max % min;
            if (max < pref) {
                pref = Integer.highestOneBit((int) Math.max(max, min));
                pref = Math.max(pref, Math.max(min, 512));
            }
            try {
                return new BlockSizes(min, pref, (int) Math.max(max, pref));
            } catch (IllegalArgumentException e) {
                return new BlockSizes(min, Math.max(min, 4096), MAX_PAYLOAD);
            }
        }
    }

    private record OptionReply(int type, ByteBuffer data) {
        String message() {
            return StandardCharsets.UTF_8.decode(data.duplicate()).toString()
                    + " (reply "
                    + Integer.toHexString(type)
                    + ")";
        }
    }
}
