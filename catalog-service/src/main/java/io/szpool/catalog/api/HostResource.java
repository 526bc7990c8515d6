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
     */
    @GET
    @Blocking
    @SuppressWarnings("unchecked")
    public List<HostView> list(@QueryParam("notSeenFor") String notSeenFor) {
        Duration silent = Params.duration("notSeenFor", notSeenFor);
        String where = silent == null ? "" : " where h.last_seen < ?1";
        var query =
                em.createNativeQuery(
                        "select h.host_id, h.first_seen, h.last_seen, s.service, s.first_seen,"
                                + " s.last_seen from host h left join host_service s on s.host_id"
                                + " = h.host_id"
                                + where
                                + " order by h.host_id, s.service");
        if (silent != null) {
            query.setParameter(1, Instant.now().minus(silent));
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
