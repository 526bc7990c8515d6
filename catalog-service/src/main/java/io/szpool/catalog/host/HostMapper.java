package io.szpool.catalog.host;

import io.szpool.catalog.ingest.BatchRows;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Records that a host's service spoke, from the CloudEvents source {@code /hosts/<host>/<service>}.
 * First/last seen only move outward (in the batch and again in the upsert that writes them), so
 * concurrent consumers and any order of arrival give the same rows.
 */
@ApplicationScoped
public class HostMapper {
    private static final Pattern SOURCE = Pattern.compile("/hosts/([^/]+)/([^/]+)");

    /** The host and service a source names, if it follows the szpool convention. */
    public static Optional<String[]> parse(URI source) {
        Matcher m = SOURCE.matcher(source.toString());
        return m.matches() ? Optional.of(new String[] {m.group(1), m.group(2)}) : Optional.empty();
    }

    public void seen(BatchRows rows, URI source, Instant at) {
        parse(source).ifPresent(hs -> rows.seen(hs[0], hs[1], at));
    }
}
