package io.szpool.service;

import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventMessages;
import io.szpool.events.Event;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends events as CloudEvents from this host and service. The returned stage completes when the
 * broker has the record, so a caller can answer only once its events are durable.
 */
@ApplicationScoped
public class EventPublisher {
    private final HostConfig host;
    private final String service;

    public EventPublisher(
            HostConfig host, @ConfigProperty(name = "quarkus.application.name") String service) {
        this.host = host;
        this.service = service;
    }

    public CompletionStage<CloudEvent> publish(Emitter<String> channel, Event event) {
        CloudEvent cloudEvent = CloudEvent.of(event, host.hostId(), service);
        CompletableFuture<CloudEvent> sent = new CompletableFuture<>();
        Message<String> message =
                CloudEventMessages.toMessage(cloudEvent)
                        .withAck(
                                () -> {
                                    sent.complete(cloudEvent);
                                    return CompletableFuture.completedFuture(null);
                                })
                        .withNack(
                                failure -> {
                                    sent.completeExceptionally(failure);
                                    return CompletableFuture.completedFuture(null);
                                });
        channel.send(message);
        return sent;
    }

    public String hostId() {
        return host.hostId();
    }
}
