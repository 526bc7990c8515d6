package io.szpool.catalog.api;

import io.szpool.catalog.chunk.ChunkState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/**
 * A chunk as the API shows it; never its key material. Fields only another topic knows are null
 * until that topic's event arrives.
 */
public record ChunkView(
        String chunkId,
        String poolId,
        String hostId,
        String path,
        Long sizeBytes,
        Boolean sparse,
        String cipher,
        String driver,
        ChunkState state,
        boolean inPool,
        String deviceAddress,
        Long lastSyncedGeneration,
        Instant lastSyncedAt,
        Instant createdAt,
        Instant updatedAt) {

    /**
     * The chunk of a result row whose columns, from {@code first} on, are {@link
     * PoolDetails#CHUNK_COLUMNS}.
     */
    static ChunkView read(ResultSet rs, int first) throws SQLException {
        int i = first;
        return new ChunkView(
                rs.getString(i),
                rs.getString(i + 1),
                rs.getString(i + 2),
                rs.getString(i + 3),
                (Long) rs.getObject(i + 4),
                (Boolean) rs.getObject(i + 5),
                rs.getString(i + 6),
                rs.getString(i + 7),
                ChunkState.valueOf(rs.getString(i + 8)),
                rs.getBoolean(i + 9),
                rs.getString(i + 10),
                (Long) rs.getObject(i + 11),
                PoolDetails.instant(rs, i + 12),
                PoolDetails.instant(rs, i + 13),
                PoolDetails.instant(rs, i + 14));
    }
}
