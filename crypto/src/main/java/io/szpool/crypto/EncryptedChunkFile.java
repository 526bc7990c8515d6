package io.szpool.crypto;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * A sparse chunk file seen as a plaintext block store: reads decrypt, writes encrypt, in dm-crypt's
 * {@code aes-xts-plain64} format with 4096-byte units, so the same file opens with {@code
 * cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --sector-size 4096}.
 *
 * <p>Every offset and length is a whole number of units. A unit whose ciphertext is all zeros reads
 * as zeros (see {@link Holes}): the never-written parts of a sparse file and trimmed ranges. Writes
 * always encrypt, also a plaintext of zeros, because dm-crypt knows no hole rule and must read back
 * what was written.
 *
 * <p>Opened with {@link IoMode#DIRECT}, the file is read and written with {@code O_DIRECT}: the
 * ciphertext goes from our buffers to the disk without a copy into the page cache, which on the
 * device's write path cost more CPU than the encryption (see crypto-device-service DESIGN.md).
 * Durability is the same in both modes: {@link #flush} is an {@code fdatasync}.
 *
 * <p>Thread-safe: positional FileChannel I/O, a thread-safe {@link XtsCipher}, pooled scratch
 * buffers.
 */
public final class EncryptedChunkFile implements AutoCloseable {

    /** What {@link #trim} does to the file. */
    public enum TrimMode {
        /**
         * Gives the space back with {@code fallocate --punch-hole --keep-size}: the JDK has no call
         * for it, so this runs util-linux's fallocate; where that fails it falls back to zeros.
         */
        PUNCH_HOLE,
        /** Writes zero ciphertext: reads as a hole, but the blocks stay allocated. */
        WRITE_ZEROS
    }

    /** How the file's data reaches the disk. */
    public enum IoMode {
        /** Through the page cache: what any file write does. */
        BUFFERED,
        /**
         * {@code O_DIRECT} where the file system takes it with an alignment that divides the unit
         * size; else (tmpfs of old kernels, some FUSE file systems) buffered, see {@link
         * #directIo()}.
         */
        DIRECT
    }

    public static final int UNIT_SIZE = XtsCipher.DEFAULT_UNIT_SIZE;

    /**
     * Requests are encrypted and written in slices of this size, so scratch space stays bounded.
     */
    private static final int SLICE = 1 << 20;

    private static final byte[] ZERO_SLICE = new byte[SLICE];

    private final Path file;
    private final FileChannel channel;
    private final XtsCipher cipher;
    private final long size;
    private final ConcurrentLinkedQueue<byte[]> scratch = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<ByteBuffer> directScratch = new ConcurrentLinkedQueue<>();
    // O_DIRECT: file offsets, lengths and the memory of direct buffers must be multiples of this.
    private final boolean directIo;
    private volatile boolean punchHoles;

    private EncryptedChunkFile(
            Path file,
            FileChannel channel,
            XtsCipher cipher,
            long size,
            TrimMode trimMode,
            boolean directIo) {
        this.file = file;
        this.channel = channel;
        this.cipher = cipher;
        this.size = size;
        this.punchHoles = trimMode == TrimMode.PUNCH_HOLE;
        this.directIo = directIo;
    }

    /**
     * Creates a sparse chunk file of {@code sizeBytes} (a whole number of units) that allocates no
     * blocks: every unit starts as a hole. Refuses to overwrite an existing file.
     */
    public static void createSparse(Path file, long sizeBytes) throws IOException {
        checkUnits(0, sizeBytes);
        Files.createFile(file);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            // ftruncate extends without allocating, unlike writing a last byte.
            raf.setLength(sizeBytes);
        }
    }

    /** Opens an existing chunk file; the cipher takes its own copy of {@code key}. */
    public static EncryptedChunkFile open(Path file, XtsKey key) throws IOException {
        return open(file, key, TrimMode.PUNCH_HOLE);
    }

    public static EncryptedChunkFile open(Path file, XtsKey key, TrimMode trimMode)
            throws IOException {
        return open(file, key, trimMode, IoMode.BUFFERED);
    }

    /**
     * Opens an existing chunk file; with {@link IoMode#DIRECT} in direct I/O where the file system
     * allows it.
     */
    public static EncryptedChunkFile open(Path file, XtsKey key, TrimMode trimMode, IoMode ioMode)
            throws IOException {
        FileChannel channel = null;
        boolean direct = false;
        if (ioMode == IoMode.DIRECT && directAlignmentFits(file)) {
            try {
                channel = openReadWrite(file, true);
                direct = true;
            } catch (IOException | UnsupportedOperationException e) {
                // The file system refuses O_DIRECT (EINVAL): the page cache it is.
            }
        }
        if (channel == null) {
            channel = openReadWrite(file, false);
        }
        try {
            long size = channel.size();
            if (size % UNIT_SIZE != 0) {
                throw new IOException(
                        file
                                + " is "
                                + size
                                + " bytes, not a whole number of "
                                + UNIT_SIZE
                                + "-byte units");
            }
            return new EncryptedChunkFile(
                    file, channel, new XtsCipher(key), size, trimMode, direct);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static FileChannel openReadWrite(Path file, boolean direct) throws IOException {
        return direct
                ? FileChannel.open(
                        file,
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE,
                        ExtendedOpenOption.DIRECT)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /**
     * The JDK aligns direct I/O to the file store's block size; units must be whole blocks of it
     * (ext4, xfs: 4096; a file system with larger blocks stays buffered).
     */
    private static boolean directAlignmentFits(Path file) {
        try {
            long block = Files.getFileStore(file).getBlockSize();
            return block > 0 && block <= UNIT_SIZE && UNIT_SIZE % block == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Whether this file is read and written with {@code O_DIRECT}. */
    public boolean directIo() {
        return directIo;
    }

    /** The chunk's size in bytes, fixed when the file was created. */
    public long size() {
        return size;
    }

    /** Fills the remaining bytes of {@code dst} with plaintext from {@code offset}. */
    public void read(long offset, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        checkRange(offset, length);
        for (int done = 0; done < length; ) {
            int n = Math.min(SLICE, length - done);
            long position = offset + done;
            if (dst.hasArray()) {
                int at = dst.arrayOffset() + dst.position();
                readCiphertext(position, dst.array(), at, n);
                decryptSkippingHoles(position / UNIT_SIZE, dst.array(), at, n);
                dst.position(dst.position() + n);
            } else {
                // Direct (an NBD request): the file reads into it and the cipher works on it,
                // with no heap array in between.
                ByteBuffer view = dst.slice(dst.position(), n);
                readCiphertextDirect(position, view);
                decryptSkippingHoles(position / UNIT_SIZE, view);
                dst.position(dst.position() + n);
            }
            done += n;
        }
    }

    /**
     * Writes the remaining bytes of {@code src}, plaintext, at {@code offset}; {@code src} is left
     * unchanged.
     */
    public void write(long offset, ByteBuffer src) throws IOException {
        int length = src.remaining();
        checkRange(offset, length);
        if (!src.hasArray() || directIo) {
            // In direct I/O a heap source too goes through aligned direct scratch (see
            // readCiphertext for why the JDK's own way is not taken).
            writeDirect(offset, src);
            return;
        }
        byte[] buffer = borrow();
        try {
            for (int done = 0; done < length; ) {
                int n = Math.min(SLICE, length - done);
                long unit = (offset + done) / UNIT_SIZE;
                cipher.encrypt(unit, src.array(), src.arrayOffset() + src.position(), buffer, 0, n);
                src.position(src.position() + n);
                writeFully(ByteBuffer.wrap(buffer, 0, n), offset + done);
                done += n;
            }
        } finally {
            release(buffer);
        }
    }

    /**
     * A direct source (an NBD request) is encrypted into a direct buffer that the file channel
     * writes as it is: a heap buffer would cost a copy into the JDK's temporary direct buffer. In
     * direct I/O every source goes this way: the scratch buffer is aligned as O_DIRECT needs.
     */
    private void writeDirect(long offset, ByteBuffer src) throws IOException {
        int length = src.remaining();
        ByteBuffer out = borrowDirect();
        try {
            for (int done = 0; done < length; ) {
                int n = Math.min(SLICE, length - done);
                ByteBuffer in = src.slice(src.position(), n);
                out.clear().limit(n);
                cipher.encrypt((offset + done) / UNIT_SIZE, in, out);
                src.position(src.position() + n);
                writeFully(out.flip(), offset + done);
                done += n;
            }
        } finally {
            releaseDirect(out);
        }
    }

    /** Makes {@code length} bytes from {@code offset} holes: they read as zeros from now on. */
    public void trim(long offset, long length) throws IOException {
        checkRange(offset, length);
        if (length == 0) {
            return;
        }
        if (punchHoles && punchHole(offset, length)) {
            return;
        }
        ByteBuffer zeros = directIo ? borrowDirect() : null;
        try {
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(SLICE, length - done);
                if (zeros == null) {
                    writeFully(ByteBuffer.wrap(ZERO_SLICE, 0, n), offset + done);
                } else {
                    writeFully(zeros.clear().put(ZERO_SLICE, 0, n).flip(), offset + done);
                }
                done += n;
            }
        } finally {
            if (zeros != null) {
                releaseDirect(zeros);
            }
        }
    }

    /** Makes everything written so far durable. */
    public void flush() throws IOException {
        // fdatasync: the data and the block map needed to read it back, not the timestamps.
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            cipher.close();
            scratch.clear();
            directScratch.clear();
        }
    }

    @Override
    public String toString() {
        return "EncryptedChunkFile[" + file + ", " + size + " bytes, aes-xts-plain64]";
    }

    private void decryptSkippingHoles(long firstUnit, byte[] buffer, int offset, int length) {
        // Runs of non-hole units are decrypted with one call each; holes stay zeros.
        int units = length / UNIT_SIZE;
        int runStart = -1;
        for (int u = 0; u <= units; u++) {
            boolean hole = u == units || Holes.isZero(buffer, offset + u * UNIT_SIZE, UNIT_SIZE);
            if (!hole && runStart < 0) {
                runStart = u;
            } else if (hole && runStart >= 0) {
                cipher.decrypt(
                        firstUnit + runStart,
                        buffer,
                        offset + runStart * UNIT_SIZE,
                        (u - runStart) * UNIT_SIZE);
                runStart = -1;
            }
        }
    }

    private void decryptSkippingHoles(long firstUnit, ByteBuffer view) {
        int units = view.remaining() / UNIT_SIZE;
        int runStart = -1;
        for (int u = 0; u <= units; u++) {
            boolean hole = u == units || Holes.isZero(view.slice(u * UNIT_SIZE, UNIT_SIZE));
            if (!hole && runStart < 0) {
                runStart = u;
            } else if (hole && runStart >= 0) {
                ByteBuffer run = view.slice(runStart * UNIT_SIZE, (u - runStart) * UNIT_SIZE);
                cipher.decrypt(firstUnit + runStart, run, run.duplicate());
                runStart = -1;
            }
        }
    }

    /**
     * Reads ciphertext into a direct buffer; in direct I/O, through aligned scratch when the
     * buffer's memory is not aligned (O_DIRECT would refuse it).
     */
    private void readCiphertextDirect(long position, ByteBuffer view) throws IOException {
        if (!directIo || view.alignmentOffset(0, UNIT_SIZE) == 0) {
            readCiphertext(position, view);
            return;
        }
        readThroughAlignedScratch(
                position, view.remaining(), aligned -> view.duplicate().put(aligned));
    }

    /** Reads ciphertext into aligned direct scratch and hands it to {@code copyOut}. */
    private void readThroughAlignedScratch(
            long position, int length, java.util.function.Consumer<ByteBuffer> copyOut)
            throws IOException {
        ByteBuffer aligned = borrowDirect();
        try {
            aligned.clear().limit(length);
            readCiphertext(position, aligned);
            copyOut.accept(aligned);
        } finally {
            releaseDirect(aligned);
        }
    }

    private void readCiphertext(long position, ByteBuffer view) throws IOException {
        ByteBuffer target = view.duplicate();
        while (target.hasRemaining()) {
            int n = channel.read(target, position + target.position());
            if (n < 0) {
                // Someone shortened the file under us: what is gone reads as a hole.
                while (target.hasRemaining()) {
                    target.put((byte) 0);
                }
                return;
            }
        }
    }

    private void readCiphertext(long position, byte[] buffer, int offset, int length)
            throws IOException {
        if (directIo) {
            // Never a heap buffer on an O_DIRECT channel: JDK 17 reads it through an aligned
            // temporary buffer that it then caches as an ordinary one, and the thread's next
            // buffered I/O through that cache fails (NullPointerException in Util.free).
            readThroughAlignedScratch(
                    position, length, aligned -> aligned.get(buffer, offset, length));
            return;
        }
        ByteBuffer target = ByteBuffer.wrap(buffer, offset, length);
        while (target.hasRemaining()) {
            int n = channel.read(target, position + target.position() - offset);
            if (n < 0) {
                // Someone shortened the file under us: what is gone reads as a hole.
                Arrays.fill(buffer, target.position(), offset + length, (byte) 0);
                return;
            }
        }
    }

    private void writeFully(ByteBuffer source, long position) throws IOException {
        int start = source.position();
        while (source.hasRemaining()) {
            channel.write(source, position + source.position() - start);
        }
    }

    /**
     * Runs util-linux fallocate; false (and zeros from now on) if it is missing or the file system
     * refuses.
     */
    private boolean punchHole(long offset, long length) throws IOException {
        List<String> command =
                List.of(
                        "fallocate",
                        "--punch-hole",
                        "--keep-size",
                        "--offset",
                        Long.toString(offset),
                        "--length",
                        Long.toString(length),
                        file.toString());
        try {
            Process process =
                    new ProcessBuilder(command)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .redirectError(ProcessBuilder.Redirect.DISCARD)
                            .start();
            if (process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0) {
                return true;
            }
            process.destroyForcibly();
        } catch (IOException e) {
            // fallocate is not installed.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while punching a hole in " + file, e);
        }
        punchHoles = false;
        return false;
    }

    private void checkRange(long offset, long length) {
        checkUnits(offset, length);
        if (offset + length > size) {
            throw new IllegalArgumentException(
                    "range "
                            + offset
                            + "+"
                            + length
                            + " is past the end of the "
                            + size
                            + "-byte chunk");
        }
    }

    private static void checkUnits(long offset, long length) {
        if (offset < 0 || length < 0 || offset % UNIT_SIZE != 0 || length % UNIT_SIZE != 0) {
            throw new IllegalArgumentException(
                    "offset "
                            + offset
                            + " and length "
                            + length
                            + " must be whole "
                            + UNIT_SIZE
                            + "-byte units");
        }
    }

    /** A direct scratch buffer of one slice, aligned for O_DIRECT. */
    private ByteBuffer borrowDirect() {
        ByteBuffer buffer = directScratch.poll();
        return buffer != null
                ? buffer
                : ByteBuffer.allocateDirect(SLICE + UNIT_SIZE).alignedSlice(UNIT_SIZE);
    }

    private void releaseDirect(ByteBuffer buffer) {
        directScratch.offer(buffer);
    }

    private byte[] borrow() {
        byte[] buffer = scratch.poll();
        return buffer != null ? buffer : new byte[SLICE];
    }

    private void release(byte[] buffer) {
        scratch.offer(buffer);
    }
}
