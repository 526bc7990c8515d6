package io.szpool.pool.engine;

import io.szpool.service.ProblemException;

/** Why a create or grow was rolled back, as the caller sees it. */
final class SagaFailure {
    private SagaFailure() {}

    static ProblemException refused(String what, String reason) {
        return new ProblemException(
                502,
                "Chunk provisioning failed",
                what + " was rolled back: crypto-device-service refused the chunks: " + reason);
    }

    static ProblemException timedOut(String what, String host, long seconds, int got, int needed) {
        return new ProblemException(
                504,
                "Chunk provisioning timed out",
                what
                        + " was rolled back: crypto-device-service of host "
                        + host
                        + " attached "
                        + got
                        + " of "
                        + needed
                        + " chunks within "
                        + seconds
                        + " s");
    }

    static ProblemException buildFailed(String what, String reason) {
        return new ProblemException(500, "Pool build failed", what + " was rolled back: " + reason);
    }
}
