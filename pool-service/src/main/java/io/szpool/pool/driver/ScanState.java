package io.szpool.pool.driver;

/**
 * A scrub as {@code zpool status} reports it on its {@code scan:} line.
 *
 * @param function {@code scrub} or {@code resilver}
 * @param state {@code running}, {@code finished} or {@code canceled}
 * @param percentDone how far a running scan is (100 once finished)
 * @param repairedBytes bytes rewritten from parity so far
 * @param errors errors the scan could not repair (for the engine: bytes it could not rebuild)
 */
public record ScanState(
        String function, String state, double percentDone, long repairedBytes, long errors) {}
