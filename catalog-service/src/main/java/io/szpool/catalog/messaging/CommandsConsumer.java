package io.szpool.catalog.messaging;

import io.smallrye.common.annotation.Blocking;
import io.szpool.events.Command;
import io.szpool.events.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** The Kafka side of the catalog for {@code szpool.commands}: only Command records belong there. */
@ApplicationScoped
public class CommandsConsumer {
    private final EventIntake intake;

    public CommandsConsumer(EventIntake intake) {
        this.intake = intake;
    }

    // Hibernate ORM is blocking, so the handler runs on a worker thread, one record at a time.
    @Incoming(CatalogChannels.COMMANDS)
    @Blocking
    public void consume(ConsumerRecord<String, String> record) {
        intake.take(record, Topics.COMMANDS, Command.class);
    }
}
