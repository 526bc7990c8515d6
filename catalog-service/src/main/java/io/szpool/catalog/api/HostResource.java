package io.szpool.catalog.api;

import io.smallrye.common.annotation.Blocking;
import jakarta.persistence.EntityManager;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The hosts of the fleet, as their services' events reveal them. */
@Path("/api/hosts")
@Produces(MediaType.APPLICATION_JSON)
public class HostResource {
    static final int MAX_LIMIT = 10_000;

    private final EntityManager em;

    public HostResource(EntityManager em) {
        this.em = em;
    }

    /** A service of a host and when it last spoke. */
    public record ServiceView(String service, Instant firstSeen, Instant lastSeen) {}

    /** A host: when any of its services last spoke, and which services have. */
    public record HostView(
            String hostId, Instant firstSeen, Instant lastSeen, List<ServiceView> services) {}

    /**
     * Every host, by id.
     *
     * @param notSeenFor only hosts silent for longer than this ISO-8601 duration, e.g. PT15M
     * @param limit at most this many hosts, 1 to 10000 (default 1000)
     */
    @GET
    @Blocking
    @SuppressWarnings("unchecked")
    public List<HostView> list(
            @QueryParam("notSeenFor") String notSeenFor, @QueryParam("limit") String limit) {
        Duration silent = Params.duration("notSeenFor", notSeenFor);
        int n = Params.whole("limit", limit, 1, MAX_LIMIT, 1000);
        String where = silent == null ? "" : " where last_seen < ?2";
        // The limit counts hosts, so it cuts the host table before the join to their services.
        var query =
                em.createNativeQuery(
                                "select h.host_id, h.first_seen, h.last_seen, s.service,"
                                        + " s.first_seen, s.last_seen from (select * from host"
                                        + where
                                        + " order by host_id limit ?1) h left join host_service s"
                                        + " on s.host_id = h.host_id order by h.host_id, s.service")
                        .setParameter(1, n);
        if (silent != null) {
            query.setParameter(2, Instant.now().minus(silent));
        }
        Map<String, HostView> hosts = new LinkedHashMap<>();
        for (Object[] row : (List<Object[]>) query.getResultList()) {
            HostView host =
                    hosts.computeIfAbsent(
                            (String) row[0],
                            id ->
                                    new HostView(
                                            id,
                                            Params.instant(row[1]),
                                            Params.instant(row[2]),
                                            new ArrayList<>()));
            if (row[3] != null) {
                host.services()
                        .add(
                                new ServiceView(
                                        (String) row[3],
                                        Params.instant(row[4]),
                                        Params.instant(row[5])));
            }
        }
        return List.copyOf(hosts.values());
    }
}
