package io.szpool.device.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.device.chunk.ChunkService;
import io.szpool.device.chunk.ChunkSpec;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.Command;
import io.szpool.events.Command.DestroyChunks;
import io.szpool.events.Command.ProvisionChunks;
import io.szpool.events.InvalidEventException;
import io.szpool.events.Topics;
import io.szpool.service.HostConfig;
import io.szpool.service.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Carries out the commands addressed to this host's crypto-device-service. Commands for other
 * hosts, and commands other services carry out, pass by untouched. A command that cannot be read,
 * or that this host refuses, nacks into {@code szpool.dead-letters} with its reason.
 */
@ApplicationScoped
public class CommandConsumer {
    private static final Logger LOG = Logger.getLogger(CommandConsumer.class);
    private final ChunkService chunks;
    private final HostConfig host;

    public CommandConsumer(ChunkService chunks, HostConfig host) {
        this.chunks = chunks;
        this.host = host;
    }

    @Incoming(DeviceChannels.COMMANDS)
    @Blocking
    public void consume(ConsumerRecord<String, String> record) {
        CloudEvent event = CloudEventRecords.fromRecord(record.headers(), record.value());
        if (!(event.data() instanceof Command command)) {
            throw new InvalidEventException(
                    event.type() + " does not belong on " + Topics.COMMANDS);
        }
        if (!host.hostId().equals(command.hostId())) {
            return;
        }
        try {
            if (command instanceof ProvisionChunks p) {
                chunks.provision(spec(p), p.requestId());
            } else if (command instanceof DestroyChunks d) {
                for (String chunkId : d.chunkIds()) {
                    // Idempotent: what is gone already stays gone, the command still succeeds.
                    if (!chunks.destroyIfPresent(chunkId, d.force())) {
                        LOG.infof(
                                "%s %s: chunk %s is not on this host (already destroyed)",
                                event.type(), command.requestId(), chunkId);
                    }
                }
            }
        } catch (ProblemException e) {
            LOG.warnf("refused %s %s: %s", event.type(), command.requestId(), e.getMessage());
            throw new InvalidEventException(
                    "refused by host " + host.hostId() + ": " + e.getMessage(), e);
        }
    }

    /** The command's chunk spec; a spec this host refuses is reported to the requester too. */
    private ChunkSpec spec(ProvisionChunks p) {
        try {
            return new ChunkSpec(p.poolId(), p.count(), p.sizeBytes(), p.sparse());
        } catch (ProblemException e) {
            chunks.refused(p.poolId(), p.requestId(), e.getMessage());
            throw e;
        }
    }
}
