package io.szpool.sync.source;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * crypto-device-service's REST as sync-service uses it: the pool's key slot, and copy-on-write
 * snapshots of a pool's chunk devices with their ciphertext streamed out.
 */
public final class DeviceServiceClient {
    /** Holes are skipped per encryption unit: a unit of zeros is never written to staging. */
    static final int UNIT = 4096;

    private static final int BUFFER = 1 << 20;
    private static final byte[] ZEROS = new byte[UNIT];

    private final ServiceHttp http;

    public DeviceServiceClient(URI base, Duration timeout) {
        this.http = new ServiceHttp(base, timeout);
    }

    /** One chunk of a snapshot; the same (epoch, writes) as an earlier snapshot = unchanged. */
    public record SnapshotChunk(String chunkId, long sizeBytes, long epoch, long writes) {
        public String version() {
            return epoch + ":" + writes;
        }
    }

    public record Snapshot(
            String snapshotId, String poolId, long barrierMicros, List<SnapshotChunk> chunks) {}

    /** The pool's key slot (152 bytes); it travels wrapped in every manifest. */
    public byte[] keySlot(String poolId) throws IOException, InterruptedException {
        return http.bytes("/keys/" + path(poolId) + "/slot");
    }

    /** A crash-consistent snapshot of every chunk device of {@code poolId}, taken now. */
    public Snapshot snapshot(String poolId) throws IOException, InterruptedException {
        JsonNode s =
                http.post(
                        "/snapshots",
                        ServiceHttp.JSON.writeValueAsString(java.util.Map.of("poolId", poolId)),
                        201);
        List<SnapshotChunk> chunks = new ArrayList<>();
        for (JsonNode c : s.path("chunks")) {
            chunks.add(
                    new SnapshotChunk(
                            c.path("chunkId").asText(),
                            c.path("sizeBytes").asLong(),
                            c.path("epoch").asLong(),
                            c.path("writes").asLong()));
        }
        return new Snapshot(
                s.path("snapshotId").asText(),
                s.path("poolId").asText(poolId),
                s.path("barrierMicros").asLong(-1),
                List.copyOf(chunks));
    }

    /**
     * Streams a chunk's ciphertext as of the snapshot into {@code file} (created new), writing only
     * units that are not all zeros, so the copy is as sparse as the chunk, and digests every byte
     * on the way.
     *
     * @return the SHA-256 of the whole image, lower-case hex
     */
    public String download(String snapshotId, SnapshotChunk chunk, Path file)
            throws IOException, InterruptedException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long position = 0;
        byte[] buffer = new byte[BUFFER];
        try (InputStream in =
                        http.stream(
                                "/snapshots/"
                                        + path(snapshotId)
                                        + "/chunks/"
                                        + path(chunk.chunkId()));
                RandomAccessFile raf = new RandomAccessFile(Files.createFile(file).toFile(), "rw");
                FileChannel out = raf.getChannel()) {
            while (true) {
                int n = in.readNBytes(buffer, 0, buffer.length);
                if (n == 0) {
                    break;
                }
                if (position + n > chunk.sizeBytes()) {
                    throw new IOException(
                            "chunk "
                                    + chunk.chunkId()
                                    + " streamed more than its "
                                    + chunk.sizeBytes()
                                    + " bytes");
                }
                sha.update(buffer, 0, n);
                for (int at = 0; at < n; at += UNIT) {
                    int len = Math.min(UNIT, n - at);
                    if (Arrays.mismatch(buffer, at, at + len, ZEROS, 0, len) != -1) {
                        ByteBuffer unit = ByteBuffer.wrap(buffer, at, len);
                        long to = position + at;
                        while (unit.hasRemaining()) {
                            to += out.write(unit, to);
                        }
                    }
                }
                position += n;
            }
            if (position != chunk.sizeBytes()) {
                throw new IOException(
                        "chunk "
                                + chunk.chunkId()
                                + " streamed "
                                + position
                                + " of its "
                                + chunk.sizeBytes()
                                + " bytes");
            }
            // A trailing hole: the length says where the image ends (extending makes no blocks).
            raf.setLength(position);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /**
     * One chunk crypto-device-service took over from a restored folder.
     *
     * @param restored {@code intact}, {@code damaged} (attached as it is) or {@code missing}
     *     (attached as a fresh sparse file for the pool's rebuild)
     */
    public record AdoptedChunk(
            String chunkId, String deviceAddress, String state, String restored, long sizeBytes) {}

    public record Adopted(String poolId, List<AdoptedChunk> chunks) {}

    /**
     * Has crypto-device-service take the chunks of a restored folder into its data folder (moved,
     * not copied) and attach them. Idempotent: a folder adopted before answers the same chunks.
     */
    public Adopted adopt(Path folder) throws IOException, InterruptedException {
        JsonNode a =
                http.post(
                        "/chunks/adopt",
                        ServiceHttp.JSON.writeValueAsString(
                                java.util.Map.of("folder", folder.toAbsolutePath().toString())),
                        ServiceHttp.ANY_2XX);
        List<AdoptedChunk> chunks = new ArrayList<>();
        for (JsonNode c : a.path("chunks")) {
            chunks.add(
                    new AdoptedChunk(
                            c.path("chunkId").asText(),
                            c.path("deviceAddress").asText(null),
                            c.path("state").asText(null),
                            c.path("restored").asText(null),
                            c.path("sizeBytes").asLong()));
        }
        return new Adopted(a.path("poolId").asText(), List.copyOf(chunks));
    }

    /** Drops the snapshot and its preserved units; a snapshot already gone is fine. */
    public void deleteSnapshot(String snapshotId) throws IOException, InterruptedException {
        try {
            http.delete("/snapshots/" + path(snapshotId), 204);
        } catch (ServiceHttp.CallFailedException e) {
            if (e.status() != 404) {
                throw e;
            }
        }
    }

    private static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
