package io.szpool.catalog.eventlog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.catalog.host.HostMapper;
import io.szpool.events.CloudEvent;
import io.szpool.events.EventCodec;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/** The audit trail: every applied event with its payload, numbered in the order it was applied. */
@ApplicationScoped
public class EventLog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EntityManager em;

    public EventLog(EntityManager em) {
        this.em = em;
    }

    /** Logs an event; {@code at} is its time, or when it arrived if it carries none. */
    public CatalogedEvent append(CloudEvent event, Instant at) {
        long seq =
                ((Number)
                                em.createNativeQuery("select nextval('event_log_seq_seq')")
                                        .getSingleResult())
                        .longValue();
        String payload = EventCodec.toJson(event.data());
        String host = HostMapper.parse(event.source()).map(hs -> hs[0]).orElse(null);
        em.createNativeQuery(
                        "insert into event_log (seq, event_id, type, topic, pool_id, host_id,"
                                + " source, event_time, payload, cataloged_at) values (?1, ?2, ?3,"
                                + " ?4, ?5, ?6, ?7, ?8, cast(?9 as jsonb), ?10)")
                .setParameter(1, seq)
                .setParameter(2, event.id())
                .setParameter(3, event.type())
                .setParameter(4, event.topic())
                .setParameter(5, event.data().poolId())
                .setParameter(6, host)
                .setParameter(7, event.source().toString())
                .setParameter(8, at)
                .setParameter(9, payload)
                .setParameter(10, Instant.now())
                .executeUpdate();
        return new CatalogedEvent(
                seq,
                event.id(),
                event.type(),
                event.topic(),
                event.data().poolId(),
                host,
                event.source().toString(),
                at,
                json(payload));
    }

    public static JsonNode json(String payload) {
        try {
            return JSON.readTree(payload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
