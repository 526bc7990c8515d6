package io.szpool.catalog.api;

import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.szpool.catalog.eventlog.CatalogedEvent;
import io.szpool.catalog.eventlog.EventStream;
import io.szpool.events.EventTypes;
import io.szpool.service.ProblemException;
import jakarta.persistence.EntityManager;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.List;
import org.jboss.resteasy.reactive.RestStreamElementType;

/** The audit trail: every event the catalog applied, paged, and live as it is cataloged. */
@Path("/api/events")
public class EventResource {
    static final int MAX_LIMIT = 1000;

    private final EntityManager em;
    private final EventStream stream;

    public EventResource(EntityManager em, EventStream stream) {
        this.em = em;
        this.stream = stream;
    }

    /**
     * One page of events in the order the catalog applied them. {@code next} is the cursor for the
     * following page ({@code after=next}); it is null when this page is the last one so far.
     */
    public record EventPage(List<CatalogedEvent> events, String next) {}

    /**
     * @param pool only events of this pool
     * @param type only events of this CloudEvents type, e.g. io.szpool.chunk.created.v1
     * @param after the cursor of the previous page (absent: from the beginning)
     * @param limit at most this many events, 1 to 1000 (default 100)
     */
    @GET
    @Blocking
    @Produces(MediaType.APPLICATION_JSON)
    @SuppressWarnings("unchecked")
    public EventPage list(
            @QueryParam("pool") String pool,
            @QueryParam("type") String type,
            @QueryParam("after") String after,
            @QueryParam("limit") String limit) {
        long cursor = Params.cursor("after", after);
        int n = Params.whole("limit", limit, 1, MAX_LIMIT, 100);
        type(type);
        StringBuilder sql =
                new StringBuilder(
                        "select seq, event_id, type, topic, pool_id, host_id, source, event_time,"
                                + " cast(payload as text) from event_log where seq > ?1");
        List<Object> params = new ArrayList<>(List.of(cursor));
        if (Params.present(pool)) {
            params.add(pool);
            sql.append(" and pool_id = ?").append(params.size());
        }
        if (Params.present(type)) {
            params.add(type);
            sql.append(" and type = ?").append(params.size());
        }
        sql.append(" order by seq limit ").append(n + 1);
        var query = em.createNativeQuery(sql.toString());
        for (int i = 0; i < params.size(); i++) {
            query.setParameter(i + 1, params.get(i));
        }
        List<CatalogedEvent> events = new ArrayList<>();
        for (Object[] row : (List<Object[]>) query.getResultList()) {
            events.add(
                    new CatalogedEvent(
                            Params.number(row[0]),
                            (String) row[1],
                            (String) row[2],
                            (String) row[3],
                            (String) row[4],
                            (String) row[5],
                            (String) row[6],
                            Params.instant(row[7]),
                            (String) row[8]));
        }
        String next = null;
        if (events.size() > n) {
            events = events.subList(0, n);
            next = Long.toString(events.get(n - 1).seq());
        }
        return new EventPage(events, next);
    }

    /**
     * Server-Sent Events: every event from now on, as it is cataloged.
     *
     * @param pool only events of this pool
     * @param type only events of this CloudEvents type
     */
    @GET
    @Path("stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<CatalogedEvent> stream(
            @QueryParam("pool") String pool, @QueryParam("type") String type) {
        type(type);
        // A batch commits many events at once; each client gets its own buffer so that a burst does
        // not fail it for lack of requests. A client 10,000 events behind is dropped and its
        // EventSource reconnects.
        return stream.events()
                .onOverflow()
                .buffer(10_000)
                .filter(e -> !Params.present(pool) || pool.equals(e.poolId()))
                .filter(e -> !Params.present(type) || type.equals(e.type()));
    }

    private static void type(String type) {
        if (Params.present(type) && EventTypes.classOf(type).isEmpty()) {
            throw ProblemException.badRequest(
                    "type must be an szpool event type such as io.szpool.chunk.created.v1, was '"
                            + type
                            + "'");
        }
    }
}
