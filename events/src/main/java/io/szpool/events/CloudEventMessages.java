package io.szpool.events;

import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import java.time.ZoneOffset;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;

/**
 * Turns an event into an outgoing SmallRye message: JSON payload, CloudEvents attributes (written
 * by the Kafka connector as binary-mode {@code ce_*} headers) and the pool id as Kafka key.
 * Services emit only through here, so none writes CloudEvents headers by hand.
 */
public final class CloudEventMessages {
    private CloudEventMessages() {}

    public static Message<String> toMessage(Event event, String hostId, String service) {
        return toMessage(CloudEvent.of(event, hostId, service));
    }

    public static Message<String> toMessage(CloudEvent event) {
        OutgoingCloudEventMetadata<String> ce =
                OutgoingCloudEventMetadata.<String>builder()
                        .withId(event.id())
                        .withSource(event.source())
                        .withType(event.type())
                        .withSubject(event.subject())
                        .withDataContentType(CloudEvent.CONTENT_TYPE)
                        .withTimestamp(event.time().atZone(ZoneOffset.UTC))
                        .build();
        OutgoingKafkaRecordMetadata<String> kafka =
                OutgoingKafkaRecordMetadata.<String>builder().withKey(event.key()).build();
        return Message.of(EventCodec.toJson(event.data()), Metadata.of(ce, kafka));
    }
}
