package io.szpool.sync.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.szpool.service.ProblemException;
import io.szpool.sync.api.SyncResource.CheckAnswer;
import io.szpool.sync.run.SyncService;
import io.szpool.sync.run.SyncService.RestoreOrder;
import io.szpool.sync.run.SyncService.RestoreOutcome;
import io.szpool.sync.source.PoolServiceClient.Rebuilt;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import java.util.List;
import java.util.Optional;

/**
 * Restores: fetch a generation from a target with only the target and the passphrase, and, with
 * {@code "import": true}, hand the pool to this host's crypto-device-service and pool-service.
 */
@Path("/restores")
public class RestoreResource {
    private final SyncService syncs;

    public RestoreResource(SyncService syncs) {
        this.syncs = syncs;
    }

    /**
     * A restore request.
     *
     * @param target where the generations are (required)
     * @param poolId which pool, when the target holds several
     * @param generation which generation (default: the latest)
     * @param into a fresh local folder; it becomes a crypto-device-service data folder. Required
     *     for a files-only restore; an import defaults to a folder under the data dir
     * @param importPool adopt, import and scrub the pool at this host's services
     * @param pool the name pool-service gives the imported pool (required with import: the target
     *     never holds pool names)
     */
    public record RestoreRequest(
            String target,
            String poolId,
            Long generation,
            String into,
            @JsonProperty("import") Boolean importPool,
            String pool) {}

    /**
     * What a restore did: the check of every chunk (the fields of a verify's answer), the folder it
     * fetched into, and for an import what pool-service made of it.
     */
    public record RestoreAnswer(@JsonUnwrapped CheckAnswer check, String into, Imported imported) {}

    /**
     * @param rebuilt columns pool-service rebuilt at import (missing chunks, chunks whose label was
     *     damaged)
     * @param repaired every chunk rebuilt or repaired by the scrub after the import
     */
    public record Imported(
            String pool,
            String state,
            String health,
            List<Rebuilt> rebuilt,
            long scrubBytesScanned,
            long scrubBytesRepaired,
            long scrubBytesUnrecoverable,
            List<String> repaired,
            int chunksRestored,
            int chunksRepaired) {}

    @POST
    public RestoreAnswer restore(RestoreRequest request) {
        if (request == null || request.target() == null || request.target().isBlank()) {
            throw ProblemException.badRequest("a restore needs 'target'");
        }
        boolean importing = Boolean.TRUE.equals(request.importPool());
        if (!importing && request.into() == null) {
            throw ProblemException.badRequest(
                    "a restore without import needs 'into', a fresh folder for the files");
        }
        if (!importing && request.pool() != null) {
            throw ProblemException.badRequest(
                    "'pool' names the pool to import; set \"import\": true or leave it out");
        }
        if (importing && (request.pool() == null || request.pool().isBlank())) {
            throw ProblemException.badRequest(
                    "an import needs 'pool', the name pool-service gives the restored pool");
        }
        if (request.generation() != null && request.generation() < 1) {
            throw ProblemException.badRequest("'generation' counts from 1");
        }
        Optional<java.nio.file.Path> into = Optional.empty();
        if (request.into() != null) {
            java.nio.file.Path path = java.nio.file.Path.of(request.into());
            if (!path.isAbsolute()) {
                throw ProblemException.badRequest("'into' must be an absolute path");
            }
            into = Optional.of(path.normalize());
        }
        RestoreOutcome outcome =
                syncs.restore(
                        new RestoreOrder(
                                Optional.ofNullable(request.poolId()),
                                request.target(),
                                Optional.ofNullable(request.generation()),
                                into,
                                importing ? Optional.of(request.pool()) : Optional.empty()));
        CheckAnswer check =
                CheckAnswer.of(
                        syncs.targetAddress(Optional.of(request.target())), outcome.report());
        var i = outcome.imported();
        return new RestoreAnswer(
                check,
                outcome.into().toString(),
                i == null
                        ? null
                        : new Imported(
                                i.pool(),
                                i.state(),
                                i.health(),
                                i.rebuilt(),
                                i.scrub().bytesScanned(),
                                i.scrub().bytesRepaired(),
                                i.scrub().bytesUnrecoverable(),
                                i.repaired().stream().sorted().toList(),
                                outcome.report().chunks().size(),
                                i.repaired().size()));
    }
}
