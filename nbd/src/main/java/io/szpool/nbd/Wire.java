package io.szpool.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The byte stream under one NBD connection: a plain socket channel, or TLS after {@code
 * NBD_OPT_STARTTLS}. One thread reads while others write; writes are serialized by the caller.
 */
abstract class Wire implements Closeable {

    /** Reads at least one byte into {@code dst}; returns -1 at end of stream. */
    abstract int read(ByteBuffer dst) throws IOException;

    /** Writes every remaining byte of every buffer, in order. */
    abstract void write(ByteBuffer... srcs) throws IOException;

    abstract Wire startTls(SSLContext context, boolean clientMode, String peerHost)
            throws IOException;

    abstract boolean isTls();

    /** Reads exactly {@code dst.remaining()} bytes or throws {@link java.io.EOFException}. */
    final void readFully(ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (read(dst) < 0) {
                throw new java.io.EOFException("connection closed mid-message");
            }
        }
    }

    static Wire of(SocketChannel channel) {
        return new Plain(channel);
    }

    /** Blocking channel I/O: direct buffers go straight to read(2)/writev(2) without copies. */
    private static final class Plain extends Wire {
        private final SocketChannel channel;

        Plain(SocketChannel channel) {
            this.channel = channel;
        }

        @Override
        int read(ByteBuffer dst) throws IOException {
            return channel.read(dst);
        }

        @Override
        void write(ByteBuffer... srcs) throws IOException {
            while (hasRemaining(srcs)) {
                channel.write(srcs);
            }
        }

        private static boolean hasRemaining(ByteBuffer[] srcs) {
            for (ByteBuffer b : srcs) {
                if (b.hasRemaining()) {
                    return true;
                }
            }
            return false;
        }

        @Override
        Wire startTls(SSLContext context, boolean clientMode, String peerHost) throws IOException {
            Socket socket = channel.socket();
            SSLSocket tls =
                    (SSLSocket)
                            context.getSocketFactory()
                                    .createSocket(socket, peerHost, socket.getPort(), true);
            tls.setUseClientMode(clientMode);
            if (clientMode) {
                // Check the server certificate against the host we meant to reach.
                javax.net.ssl.SSLParameters parameters = tls.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                tls.setSSLParameters(parameters);
            }
            tls.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            tls.startHandshake();
            return new Tls(tls);
        }

        @Override
        boolean isTls() {
            return false;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** TLS through the JDK's SSLSocket layered over the connected socket. */
    private static final class Tls extends Wire {
        private final SSLSocket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] readScratch = new byte[64 << 10];
        private final byte[] writeScratch = new byte[64 << 10];

        Tls(SSLSocket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        @Override
        int read(ByteBuffer dst) throws IOException {
            if (dst.hasArray()) {
                int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
                if (n > 0) {
                    dst.position(dst.position() + n);
                }
                return n;
            }
            int n = in.read(readScratch, 0, Math.min(readScratch.length, dst.remaining()));
            if (n > 0) {
                dst.put(readScratch, 0, n);
            }
            return n;
        }

        @Override
        void write(ByteBuffer... srcs) throws IOException {
            for (ByteBuffer src : srcs) {
                while (src.hasRemaining()) {
                    int n = Math.min(writeScratch.length, src.remaining());
                    src.get(writeScratch, 0, n);
                    out.write(writeScratch, 0, n);
                }
            }
            out.flush();
        }

        @Override
        Wire startTls(SSLContext context, boolean clientMode, String peerHost) {
            throw new IllegalStateException("TLS already started");
        }

        @Override
        boolean isTls() {
            return true;
        }

        /**
         * Sends close_notify alone first: closing a TLS 1.3 socket whose peer's close_notify is
         * still unread makes the JDK send user_canceled, which gnutls (libnbd) reports as fatal.
         */
        @Override
        public void close() throws IOException {
            try {
                if (!socket.isClosed() && !socket.isOutputShutdown()) {
                    socket.shutdownOutput();
                }
            } catch (IOException | UnsupportedOperationException ignored) {
                // The peer is gone already; closing below is all that is left.
            } finally {
                socket.close();
            }
        }
    }
}
