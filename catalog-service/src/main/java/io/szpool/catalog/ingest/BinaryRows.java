package io.szpool.catalog.ingest;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import org.postgresql.copy.CopyIn;

/**
 * Rows in PostgreSQL's binary {@code COPY} format, streamed to a running {@code COPY ... FROM STDIN
 * (FORMAT BINARY)} through one small buffer: integers, booleans and timestamps go as the server
 * keeps them (big-endian, timestamps as microseconds since 2000-01-01 UTC), text as its UTF-8
 * bytes. Nothing is formatted as text on the way and nothing is parsed on the server: the write
 * path's timestamps as text and PgJDBC's array literals were a third of the catalog's CPU samples
 * at fleet size. The buffer is sent whenever it fills, so a batch's rows never sit in one large
 * array (DESIGN.md, "Scale").
 */
final class BinaryRows {
    private static final byte[] SIGNATURE = {
        'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0
    };

    /** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix seconds. */
    private static final long PG_EPOCH_SECONDS = 946_684_800L;

    private static final int BUFFER = 64 * 1024;

    private final CopyIn copy;
    private final byte[] buf = new byte[BUFFER];
    private int len;

    BinaryRows(CopyIn copy) {
        this.copy = copy;
        System.arraycopy(SIGNATURE, 0, buf, 0, SIGNATURE.length);
        len = SIGNATURE.length;
        putInt32(0); // flags: no OIDs
        putInt32(0); // no header extension
    }

    /** Starts a row of {@code fields} fields. */
    void row(int fields) throws SQLException {
        room(2);
        putInt16(fields);
    }

    void nul() throws SQLException {
        room(4);
        putInt32(-1);
    }

    void int4(int v) throws SQLException {
        room(8);
        putInt32(4);
        putInt32(v);
    }

    void int8(long v) throws SQLException {
        room(12);
        putInt32(8);
        putInt32((int) (v >>> 32));
        putInt32((int) v);
    }

    void bool(boolean v) throws SQLException {
        room(5);
        putInt32(1);
        buf[len++] = (byte) (v ? 1 : 0);
    }

    /** A timestamptz: microseconds since PostgreSQL's epoch (sub-microsecond digits dropped). */
    void timestamp(Instant t) throws SQLException {
        int8(
                Math.addExact(
                        Math.multiplyExact(t.getEpochSecond() - PG_EPOCH_SECONDS, 1_000_000L),
                        t.getNano() / 1000));
    }

    /** Text, varchar or json: the UTF-8 bytes, copied straight when the text is ASCII. */
    void text(String s) throws SQLException {
        int n = s.length();
        if (4 + n <= BUFFER) {
            room(4 + n);
            int start = len;
            len += 4;
            boolean ascii = true;
            for (int i = 0; i < n && ascii; i++) {
                char c = s.charAt(i);
                ascii = c < 0x80;
                buf[len++] = (byte) c;
            }
            if (ascii) {
                len = start;
                putInt32(n);
                len += n;
                return;
            }
            len = start;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        room(4);
        putInt32(utf8.length);
        if (utf8.length <= BUFFER - len) {
            System.arraycopy(utf8, 0, buf, len, utf8.length);
            len += utf8.length;
        } else {
            flush();
            copy.writeToCopy(utf8, 0, utf8.length);
        }
    }

    /** Sends the trailer and what is left, and ends the COPY. */
    void finish() throws SQLException {
        room(2);
        putInt16(-1);
        flush();
        copy.endCopy();
    }

    private void room(int n) throws SQLException {
        if (len + n > BUFFER) {
            flush();
        }
    }

    private void flush() throws SQLException {
        if (len > 0) {
            copy.writeToCopy(buf, 0, len);
            len = 0;
        }
    }

    private void putInt16(int v) {
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
    }

    private void putInt32(int v) {
        buf[len++] = (byte) (v >>> 24);
        buf[len++] = (byte) (v >>> 16);
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
    }
}
