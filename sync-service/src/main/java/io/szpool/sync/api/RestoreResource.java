package io.szpool.sync.api;

import io.szpool.service.ProblemException;
import io.szpool.sync.api.SyncResource.CheckAnswer;
import io.szpool.sync.run.SyncService;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import java.util.Optional;

/** Restores: fetch a generation from a target with only the target and the passphrase. */
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
     * @param into a fresh local folder; it becomes a crypto-device-service data folder
     */
    public record RestoreRequest(String target, String poolId, Long generation, String into) {}

    @POST
    public CheckAnswer restore(RestoreRequest request) {
        if (request == null || request.target() == null || request.into() == null) {
            throw ProblemException.badRequest("a restore needs 'target' and 'into'");
        }
        java.nio.file.Path into = java.nio.file.Path.of(request.into());
        if (!into.isAbsolute()) {
            throw ProblemException.badRequest("'into' must be an absolute path");
        }
        return CheckAnswer.of(
                request.target(),
                syncs.restore(
                        Optional.ofNullable(request.poolId()),
                        request.target(),
                        Optional.ofNullable(request.generation()),
                        into));
    }
}
