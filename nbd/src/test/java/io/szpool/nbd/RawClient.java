package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Speaks the NBD wire format byte by byte, so tests can send what no polite client would. */
final class RawClient implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    RawClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    /** Reads the server greeting and answers with fixed newstyle + no zeroes. */
    RawClient greet() throws IOException {
        assertEquals(Protocol.NBDMAGIC, in.readLong());
        assertEquals(Protocol.IHAVEOPT, in.readLong());
        in.readUnsignedShort();
        out.writeInt(Protocol.FLAG_C_FIXED_NEWSTYLE | Protocol.FLAG_C_NO_ZEROES);
        return this;
    }

    void option(int option, byte[] data) throws IOException {
        out.writeLong(Protocol.IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    record OptionReply(int option, int type, byte[] data) {}

    OptionReply optionReply() throws IOException {
        assertEquals(Protocol.OPTION_REPLY_MAGIC, in.readLong());
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    static byte[] goData(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + bytes.length + 2);
        b.putInt(bytes.length).put(bytes).putShort((short) 0);
        return b.array();
    }

    /** Negotiates NBD_OPT_GO for {@code name}; returns the export size. */
    long go(String name) throws IOException {
        option(Protocol.OPT_GO, goData(name));
        long size = -1;
        while (true) {
            OptionReply reply = optionReply();
            if (reply.type() == Protocol.REP_ACK) {
                return size;
            }
            assertEquals(Protocol.REP_INFO, reply.type(), "GO refused");
            java.nio.ByteBuffer data = java.nio.ByteBuffer.wrap(reply.data());
            if (data.getShort() == Protocol.INFO_EXPORT) {
                size = data.getLong();
            }
        }
    }

    void request(int flags, int type, long handle, long offset, long length) throws IOException {
        out.writeInt(Protocol.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt((int) length);
        out.flush();
    }

    record SimpleReply(int error, long handle) {}

    SimpleReply simpleReply() throws IOException {
        assertEquals(Protocol.SIMPLE_REPLY_MAGIC, in.readInt());
        return new SimpleReply(in.readInt(), in.readLong());
    }

    /** True once the server has closed the connection (reads end of stream or a reset). */
    boolean closedByServer() throws IOException {
        try {
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
