package io.szpool.catalog.ingest;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/**
 * Rows in PostgreSQL's binary {@code COPY} format, built in one growing byte array: integers,
 * booleans and timestamps go as the server keeps them (big-endian, timestamps as microseconds since
 * 2000-01-01 UTC), text as its UTF-8 bytes. Nothing is formatted as text on the way and nothing is
 * parsed on the server: the write path's timestamps as text and PgJDBC's array literals were a
 * third of the catalog's CPU samples at fleet size (DESIGN.md, "Scale").
 */
final class BinaryRows {
    private static final byte[] SIGNATURE = {
        'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0
    };

    /** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix seconds. */
    private static final long PG_EPOCH_SECONDS = 946_684_800L;

    private byte[] buf;
    private int len;

    BinaryRows(int expectedBytes) {
        buf = new byte[Math.max(64, expectedBytes)];
        write(SIGNATURE, 0, SIGNATURE.length);
        int32(0); // flags: no OIDs
        int32(0); // no header extension
    }

    /** Starts a row of {@code fields} fields. */
    void row(int fields) {
        int16(fields);
    }

    void nul() {
        int32(-1);
    }

    void int2(int v) {
        int32(2);
        int16(v);
    }

    void int4(int v) {
        int32(4);
        int32(v);
    }

    void int8(long v) {
        int32(8);
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            buf[len++] = (byte) (v >>> shift);
        }
    }

    void bool(boolean v) {
        int32(1);
        ensure(1);
        buf[len++] = (byte) (v ? 1 : 0);
    }

    /** A timestamptz: microseconds since PostgreSQL's epoch (sub-microsecond digits dropped). */
    void timestamp(Instant t) {
        int8(
                Math.addExact(
                        Math.multiplyExact(t.getEpochSecond() - PG_EPOCH_SECONDS, 1_000_000L),
                        t.getNano() / 1000));
    }

    /** Text, varchar or json: the UTF-8 bytes, copied straight when the text is ASCII. */
    void text(String s) {
        int n = s.length();
        ensure(4 + n);
        int start = len;
        len += 4;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                len = start;
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                int32(utf8.length);
                write(utf8, 0, utf8.length);
                return;
            }
            buf[len++] = (byte) c;
        }
        putInt32(start, n);
    }

    /** Ends the data: the trailer, and the bytes to send. */
    byte[] finish() {
        int16(-1);
        return buf;
    }

    int length() {
        return len;
    }

    private void int16(int v) {
        ensure(2);
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
    }

    private void int32(int v) {
        ensure(4);
        putInt32(len, v);
        len += 4;
    }

    private void putInt32(int at, int v) {
        buf[at] = (byte) (v >>> 24);
        buf[at + 1] = (byte) (v >>> 16);
        buf[at + 2] = (byte) (v >>> 8);
        buf[at + 3] = (byte) v;
    }

    private void write(byte[] bytes, int off, int n) {
        ensure(n);
        System.arraycopy(bytes, off, buf, len, n);
        len += n;
    }

    private void ensure(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        }
    }
}
