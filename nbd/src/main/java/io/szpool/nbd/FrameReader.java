package io.szpool.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Buffered reading of NBD frames from a {@link Wire}: small headers come from one buffered read,
 * while large payloads go from the socket straight into the caller's buffer.
 */
final class FrameReader {
    private static final int CAPACITY = 64 << 10;

    /** Unread received bytes, kept flipped (between position and limit). */
    private final ByteBuffer in = ByteBuffer.allocateDirect(CAPACITY).flip();

    private Wire wire;

    FrameReader(Wire wire) {
        this.wire = wire;
    }

    /** Switches to a new wire (after STARTTLS); nothing may be left unread from the old one. */
    void wire(Wire newWire) {
        this.wire = newWire;
    }

    boolean hasBuffered() {
        return in.hasRemaining();
    }

    /** Returns the buffer with at least {@code n} (at most 64 KiB) unread bytes at its position. */
    ByteBuffer need(int n) throws IOException {
        if (in.remaining() >= n) {
            return in;
        }
        in.compact();
        try {
            while (in.position() < n) {
                if (wire.read(in) < 0) {
                    throw new EOFException("connection closed by peer");
                }
            }
        } finally {
            in.flip();
        }
        return in;
    }

    /**
     * Fills {@code dst} completely: buffered bytes first, then large rests straight from the wire.
     */
    void receive(ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (in.hasRemaining()) {
                int n = Math.min(in.remaining(), dst.remaining());
                dst.put(in.slice(in.position(), n));
                in.position(in.position() + n);
            } else if (dst.remaining() >= CAPACITY / 2) {
                if (wire.read(dst) < 0) {
                    throw new EOFException("connection closed mid-message");
                }
            } else {
                need(1);
            }
        }
    }

    void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            need(1);
            int step = (int) Math.min(left, in.remaining());
            in.position(in.position() + step);
            left -= step;
        }
    }

    String readString(int length) throws IOException {
        byte[] bytes = new byte[length];
        for (int done = 0; done < length; ) {
            need(1);
            int n = Math.min(length - done, in.remaining());
            in.get(bytes, done, n);
            done += n;
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
