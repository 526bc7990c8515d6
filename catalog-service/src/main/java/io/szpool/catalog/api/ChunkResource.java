package io.szpool.catalog.api;

import io.smallrye.common.annotation.Blocking;
import io.szpool.catalog.chunk.ChunkState;
import io.szpool.service.ProblemException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** The chunks of the fleet. */
@Path("/api/chunks")
@Produces(MediaType.APPLICATION_JSON)
public class ChunkResource {
    static final int MAX_LIMIT = 10_000;

    private final DataSource dataSource;

    public ChunkResource(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Chunks, filtered by pool, host and state (all optional), oldest first.
     *
     * @param unsyncedFor only chunks (not destroyed) whose last sync is older than this ISO-8601
     *     duration, or that were never synced
     * @param limit at most this many rows, 1 to 10000 (default 1000)
     */
    @GET
    @Blocking
    public List<ChunkView> list(
            @QueryParam("pool") String pool,
            @QueryParam("host") String host,
            @QueryParam("state") String state,
            @QueryParam("unsyncedFor") String unsyncedFor,
            @QueryParam("limit") String limit) {
        List<String> where = new ArrayList<>();
        List<Object> values = new ArrayList<>();
        if (Params.present(pool)) {
            where.add("pool_id = ?");
            values.add(pool);
        }
        if (Params.present(host)) {
            where.add("host_id = ?");
            values.add(host);
        }
        if (Params.present(state)) {
            ChunkState s =
                    ChunkState.parse(state)
                            .orElseThrow(
                                    () ->
                                            ProblemException.badRequest(
                                                    "state must be one of provisioned, attached,"
                                                            + " in-pool, faulted, destroyed; was '"
                                                            + state
                                                            + "'"));
            where.add("state = ?");
            values.add(s.name());
        }
        Duration unsynced = Params.duration("unsyncedFor", unsyncedFor);
        if (unsynced != null) {
            where.add("state <> 'DESTROYED' and (last_synced_at is null or last_synced_at < ?)");
            values.add(OffsetDateTime.ofInstant(Instant.now().minus(unsynced), ZoneOffset.UTC));
        }
        values.add(limit(limit));
        // Plain JDBC rather than Panache: one statement, no managed entities (DESIGN.md, "Scale").
        // The order is the one the state and pool indexes keep, so the scan stops at the limit.
        String sql =
                "select "
                        + PoolDetails.CHUNK_COLUMNS
                        + " from chunk"
                        + (where.isEmpty() ? "" : " where " + String.join(" and ", where))
                        + " order by created_at, chunk_id limit ?";
        try (Connection db = dataSource.getConnection();
                PreparedStatement s = db.prepareStatement(sql)) {
            for (int i = 0; i < values.size(); i++) {
                s.setObject(i + 1, values.get(i));
            }
            List<ChunkView> chunks = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    chunks.add(ChunkView.read(rs, 1));
                }
            }
            return chunks;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read chunks: " + e.getMessage(), e);
        }
    }

    private static int limit(String limit) {
        return Params.whole("limit", limit, 1, MAX_LIMIT, 1000);
    }
}
