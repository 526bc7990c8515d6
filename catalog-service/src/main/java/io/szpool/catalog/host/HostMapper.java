package io.szpool.catalog.host;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.net.URI;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Records that a host's service spoke, from the CloudEvents source {@code /hosts/<host>/<service>}.
 * One upsert per table, with first/last seen moving only outward, so concurrent consumers and any
 * order of arrival give the same rows.
 */
@ApplicationScoped
public class HostMapper {
    private static final Pattern SOURCE = Pattern.compile("/hosts/([^/]+)/([^/]+)");

    private final EntityManager em;

    public HostMapper(EntityManager em) {
        this.em = em;
    }

    /** The host and service a source names, if it follows the szpool convention. */
    public static Optional<String[]> parse(URI source) {
        Matcher m = SOURCE.matcher(source.toString());
        return m.matches() ? Optional.of(new String[] {m.group(1), m.group(2)}) : Optional.empty();
    }

    public void seen(URI source, Instant at) {
        parse(source)
                .ifPresent(
                        hs -> {
                            em.createNativeQuery(
                                            "insert into host (host_id, first_seen, last_seen)"
                                                    + " values (?1, ?2, ?2) on conflict (host_id) do"
                                                    + " update set first_seen ="
                                                    + " least(host.first_seen, excluded.first_seen),"
                                                    + " last_seen = greatest(host.last_seen,"
                                                    + " excluded.last_seen)")
                                    .setParameter(1, hs[0])
                                    .setParameter(2, at)
                                    .executeUpdate();
                            em.createNativeQuery(
                                            "insert into host_service (host_id, service,"
                                                    + " first_seen, last_seen) values (?1, ?2, ?3, ?3)"
                                                    + " on conflict (host_id, service) do update set"
                                                    + " first_seen = least(host_service.first_seen,"
                                                    + " excluded.first_seen), last_seen ="
                                                    + " greatest(host_service.last_seen,"
                                                    + " excluded.last_seen)")
                                    .setParameter(1, hs[0])
                                    .setParameter(2, hs[1])
                                    .setParameter(3, at)
                                    .executeUpdate();
                        });
    }
}
