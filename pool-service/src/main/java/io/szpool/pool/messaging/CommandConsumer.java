package io.szpool.pool.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.Command;
import io.szpool.events.Command.GrowPool;
import io.szpool.events.InvalidEventException;
import io.szpool.events.Topics;
import io.szpool.pool.engine.PoolManager;
import io.szpool.service.HostConfig;
import io.szpool.service.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Carries out the GrowPool commands addressed to this host (from the capacity monitor, the CLI or
 * another service). Commands for other hosts or services pass by; a GrowPool this host refuses
 * (unknown pool) nacks into {@code szpool.dead-letters} with its reason.
 */
@ApplicationScoped
public class CommandConsumer {
    private static final Logger LOG = Logger.getLogger(CommandConsumer.class);
    private final PoolManager pools;
    private final HostConfig host;

    public CommandConsumer(PoolManager pools, HostConfig host) {
        this.pools = pools;
        this.host = host;
    }

    @Incoming(PoolChannels.COMMANDS)
    @Blocking
    public void consume(ConsumerRecord<String, String> record) throws IOException {
        CloudEvent event = CloudEventRecords.fromRecord(record.headers(), record.value());
        if (!(event.data() instanceof Command command)) {
            throw new InvalidEventException(
                    event.type() + " does not belong on " + Topics.COMMANDS);
        }
        if (!host.hostId().equals(command.hostId()) || !(command instanceof GrowPool grow)) {
            return;
        }
        try {
            pools.growByCommand(grow);
        } catch (ProblemException e) {
            LOG.warnf("refused GrowPool %s: %s", grow.requestId(), e.getMessage());
            throw new InvalidEventException(
                    "refused by host " + host.hostId() + ": " + e.getMessage(), e);
        }
    }
}
