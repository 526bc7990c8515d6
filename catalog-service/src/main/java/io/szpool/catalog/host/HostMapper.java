package io.szpool.catalog.host;

import io.szpool.catalog.ingest.BatchRows;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.time.Instant;
import java.util.Optional;

/**
 * Records that a host's service spoke, from the CloudEvents source {@code /hosts/<host>/<service>}.
 * First/last seen only move outward (in the batch and again in the upsert that writes them), so
 * concurrent consumers and any order of arrival give the same rows.
 */
@ApplicationScoped
public class HostMapper {
    private static final String PREFIX = "/hosts/";

    /** The host and service a source names, if it follows the szpool convention. */
    public static Optional<String[]> parse(URI source) {
        // Twice per event, so by hand: a regular expression's matcher per call showed among the
        // ingest's allocations (DESIGN.md, "Scale").
        String s = source.toString();
        int slash = s.indexOf('/', PREFIX.length());
        if (!s.startsWith(PREFIX)
                || slash <= PREFIX.length()
                || slash == s.length() - 1
                || s.indexOf('/', slash + 1) >= 0) {
            return Optional.empty();
        }
        return Optional.of(
                new String[] {s.substring(PREFIX.length(), slash), s.substring(slash + 1)});
    }

    public void seen(BatchRows rows, URI source, Instant at) {
        parse(source).ifPresent(hs -> rows.seen(hs[0], hs[1], at));
    }
}
