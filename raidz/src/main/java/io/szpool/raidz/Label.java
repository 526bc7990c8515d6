package io.szpool.raidz;

import io.szpool.nbd.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;

/**
 * The label every device carries twice (first 4 KiB and last 16 KiB of the device): which pool,
 * which vdev and column, the vdev's geometry and the guid of every device of the vdev. Import
 * assembles a pool from labels alone, whatever the devices are called.
 *
 * <p>Public, read-only outside this package, so that a caller holding devices of unknown pools
 * (pool-service importing chunks restored from a backup) can sort them into pools and name the
 * missing columns before it imports.
 *
 * @param generation the pool configuration's generation, raised by every grow and replace; the
 *     newest label says how many vdevs the pool has and which device belongs in which column
 * @param txg the vdev's committed transaction group when the label was written (information only:
 *     the uberblocks hold the authoritative txg)
 */
public record Label(
        UUID poolUuid,
        String poolName,
        long generation,
        long txg,
        int vdevCount,
        int vdevIndex,
        long vdevGuid,
        int column,
        int width,
        int columnSize,
        long deviceSize,
        long[] deviceGuids) {

    static final String LAYOUT = "raidz2";
    private static final long MAGIC = 0x535a504f4f4c4c42L; // "SZPOOLLB"
    private static final int VERSION = 1;
    private static final int CHECKSUM_AT = 16;

    public long deviceGuid() {
        return deviceGuids[column];
    }

    byte[] encode() {
        byte[] block = new byte[VdevLayout.BLOCK];
        ByteBuffer b = ByteBuffer.wrap(block);
        b.putLong(MAGIC).putInt(VERSION).putInt(0).putLong(0);
        b.putLong(poolUuid.getMostSignificantBits()).putLong(poolUuid.getLeastSignificantBits());
        b.putLong(generation).putLong(txg);
        b.putInt(vdevCount).putInt(vdevIndex).putLong(vdevGuid);
        b.putInt(column).putInt(width).putInt(columnSize).putLong(deviceSize);
        putString(b, LAYOUT);
        putString(b, poolName);
        for (long g : deviceGuids) {
            b.putLong(g);
        }
        b.putLong(CHECKSUM_AT, Checksums.metadata(block, block.length, CHECKSUM_AT));
        return block;
    }

    /** Decodes a label block, or returns null if it is not a valid szpool label. */
    static Label decode(byte[] block) {
        ByteBuffer b = ByteBuffer.wrap(block);
        if (b.getLong() != MAGIC || b.getInt() != VERSION) {
            return null;
        }
        if (b.getLong(CHECKSUM_AT) != Checksums.metadata(block, block.length, CHECKSUM_AT)) {
            return null;
        }
        b.position(24);
        UUID uuid = new UUID(b.getLong(), b.getLong());
        long generation = b.getLong();
        long txg = b.getLong();
        int vdevCount = b.getInt();
        int vdevIndex = b.getInt();
        long vdevGuid = b.getLong();
        int column = b.getInt();
        int width = b.getInt();
        int columnSize = b.getInt();
        long deviceSize = b.getLong();
        String layout = getString(b);
        String name = getString(b);
        if (!LAYOUT.equals(layout)
                || width < VdevLayout.MIN_WIDTH
                || width > VdevLayout.MAX_WIDTH
                || column < 0
                || column >= width) {
            return null;
        }
        long[] guids = new long[width];
        for (int i = 0; i < width; i++) {
            guids[i] = b.getLong();
        }
        return new Label(
                uuid,
                name,
                generation,
                txg,
                vdevCount,
                vdevIndex,
                vdevGuid,
                column,
                width,
                columnSize,
                deviceSize,
                guids);
    }

    void writeTo(BlockDevice device) throws IOException {
        byte[] block = encode();
        device.write(0, ByteBuffer.wrap(block), false);
        device.write(endOffset(device), ByteBuffer.wrap(block), false);
        device.flush();
    }

    /** Reads the first valid copy of the label, or null if neither copy is valid. */
    public static Label readFrom(BlockDevice device) {
        for (long offset : new long[] {0, endOffset(device)}) {
            try {
                if (offset < 0) {
                    continue;
                }
                byte[] block = new byte[VdevLayout.BLOCK];
                device.read(offset, ByteBuffer.wrap(block));
                Label label = decode(block);
                if (label != null) {
                    return label;
                }
            } catch (IOException | RuntimeException e) {
                // An unreadable copy is as good as a missing one; the other copy may do.
            }
        }
        return null;
    }

    private static long endOffset(BlockDevice device) {
        return device.size() - VdevLayout.LABEL_AREA;
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putShort((short) bytes.length).put(bytes);
    }

    private static String getString(ByteBuffer b) {
        int length = b.getShort() & 0xffff;
        if (length > 1024) {
            return "";
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Label other && Arrays.equals(encode(), other.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }
}
