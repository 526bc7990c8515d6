package io.szpool.sync.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.Command;
import io.szpool.events.Command.SyncPool;
import io.szpool.events.InvalidEventException;
import io.szpool.events.Topics;
import io.szpool.service.HostConfig;
import io.szpool.service.ProblemException;
import io.szpool.sync.config.SyncConfig;
import io.szpool.sync.run.SyncService;
import io.szpool.sync.run.SyncService.SyncOrder;
import io.szpool.sync.schedule.SyncScheduler;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Carries out the SyncPool commands addressed to this host. A run that fails is reported as
 * SyncFailed by the run itself; a command this host refuses (no such pool, bad target, a run to
 * another target already going) nacks into {@code szpool.dead-letters} with its reason. A command
 * for the default target while the pool syncs is coalesced: one more run follows the one going. A
 * request id seen before is a no-op.
 */
@ApplicationScoped
public class CommandConsumer {
    private static final Logger LOG = Logger.getLogger(CommandConsumer.class);
    private static final int REMEMBERED = 1000;

    private final SyncService syncs;
    private final HostConfig host;
    private final SyncScheduler scheduler;
    private final SyncConfig config;
    private final Set<String> done =
            Collections.synchronizedSet(
                    Collections.newSetFromMap(
                            new LinkedHashMap<String, Boolean>() {
                                @Override
                                protected boolean removeEldestEntry(Map.Entry<String, Boolean> e) {
                                    return size() > REMEMBERED;
                                }
                            }));

    public CommandConsumer(
            SyncService syncs, SyncScheduler scheduler, HostConfig host, SyncConfig config) {
        this.syncs = syncs;
        this.scheduler = scheduler;
        this.host = host;
        this.config = config;
    }

    @Incoming(SyncChannels.COMMANDS)
    @Blocking
    public void consume(ConsumerRecord<String, String> record) {
        CloudEvent event = CloudEventRecords.fromRecord(record.headers(), record.value());
        if (!(event.data() instanceof Command command)) {
            throw new InvalidEventException(
                    event.type() + " does not belong on " + Topics.COMMANDS);
        }
        if (!host.hostId().equals(command.hostId()) || !(command instanceof SyncPool sync)) {
            return;
        }
        if (done.contains(sync.requestId())) {
            return;
        }
        if ((syncs.running(sync.poolId()) || scheduler.running(sync.poolId()))
                && (sync.target() == null
                        || sync.target().equals(config.defaultTarget().orElse(null)))) {
            // Busy: one more run to the default target follows the one going (coalesced).
            scheduler.request(sync.poolId(), "command " + sync.requestId());
            done.add(sync.requestId());
            return;
        }
        try {
            syncs.sync(
                    sync.poolId(),
                    new SyncOrder(
                            Optional.ofNullable(sync.target()),
                            Optional.empty(),
                            Optional.empty()));
            done.add(sync.requestId());
        } catch (ProblemException e) {
            if (e.status() == 502 || e.status() == 503) {
                // The run failed and said so in SyncFailed; the command itself was carried out.
                done.add(sync.requestId());
                return;
            }
            LOG.warnf("refused %s %s: %s", event.type(), sync.requestId(), e.getMessage());
            throw new InvalidEventException(
                    "refused by host " + host.hostId() + ": " + e.getMessage(), e);
        }
    }
}
