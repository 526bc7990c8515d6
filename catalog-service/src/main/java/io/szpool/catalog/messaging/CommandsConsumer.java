package io.szpool.catalog.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.Command;
import io.szpool.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** The Kafka side of the catalog for {@code szpool.commands}: only Command records belong there. */
@ApplicationScoped
public class CommandsConsumer {
    private final EventIntake intake;

    public CommandsConsumer(EventIntake intake) {
        this.intake = intake;
    }

    // Hibernate ORM is blocking, so the handler runs on a worker thread, one polled batch at a
    // time (in order: the next batch waits for this one).
    @Incoming(CatalogChannels.COMMANDS)
    @Blocking
    public void consume(ConsumerRecords<String, String> records) {
        intake.take(records, Topics.COMMANDS, Command.class);
    }
}
