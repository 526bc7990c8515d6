package io.szpool.sync.source;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * crypto-device-service's REST as sync-service uses it: the pool's key slot, and copy-on-write
 * snapshots of a pool's chunk devices with their ciphertext streamed out.
 */
public final class DeviceServiceClient {
    private final ServiceHttp http;

    public DeviceServiceClient(URI base, Duration timeout) {
        this.http = new ServiceHttp(base, timeout);
    }

    /** One chunk of a snapshot; the same (epoch, writes) as an earlier snapshot = unchanged. */
    public record SnapshotChunk(String chunkId, long sizeBytes, String epoch, long writes) {
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
                            // A UUID per open of the device: read as text. (Read as a number
                            // it was 0 for every open, so a restart whose write count happened to
                            // match would have passed for unchanged.)
                            c.path("epoch").asText(),
                            c.path("writes").asLong()));
        }
        return new Snapshot(
                s.path("snapshotId").asText(),
                s.path("poolId").asText(poolId),
                s.path("barrierMicros").asLong(-1),
                List.copyOf(chunks));
    }

    /**
     * The regions of a chunk written since an earlier snapshot whose state of it was {@code since}
     * ({@link SnapshotChunk#version()}), as [offset, length] runs; empty when crypto-device-service
     * cannot tell (another epoch: a restart or re-attach since): then everything counts as changed.
     */
    public Optional<List<long[]>> changes(String snapshotId, String chunkId, String since)
            throws IOException, InterruptedException {
        JsonNode c =
                http.get(
                        "/snapshots/"
                                + path(snapshotId)
                                + "/chunks/"
                                + path(chunkId)
                                + "/changes?since="
                                + path(since),
                        200);
        if (c.path("all").asBoolean(true)) {
            return Optional.empty();
        }
        List<long[]> runs = new ArrayList<>();
        for (JsonNode r : c.path("regions")) {
            runs.add(new long[] {r.get(0).asLong(), r.get(1).asLong()});
        }
        return Optional.of(runs);
    }

    /** {@code length} bytes of a chunk's ciphertext from {@code offset}, as of the snapshot. */
    public InputStream range(String snapshotId, String chunkId, long offset, long length)
            throws IOException, InterruptedException {
        return http.stream(
                "/snapshots/"
                        + path(snapshotId)
                        + "/chunks/"
                        + path(chunkId)
                        + "?offset="
                        + offset
                        + "&length="
                        + length);
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
