package io.szpool.catalog;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.catalog.event.ProcessedEvent;
import io.szpool.events.CloudEvent;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.PostgresResource;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The catalog against the real broker and real PostgreSQL. */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresResource.class, scope = TestResourceScope.GLOBAL)
class CatalogTest {
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject CatalogEventHandler handler;
    @Inject EntityManager em;

    private long chunksOf(String pool) {
        return ((Number)
                        em.createNativeQuery("select count(*) from chunk where pool_id = ?1")
                                .setParameter(1, pool)
                                .getSingleResult())
                .longValue();
    }

    @Test
    void chunkEventsFromTheTopicBecomeRows() throws Exception {
        String pool = "pool-" + UUID.randomUUID();
        ChunkCreated created = created(pool, "c-" + UUID.randomUUID());
        publish(CloudEvent.of(created, "h1", "crypto-device-service"));
        publish(
                CloudEvent.of(
                        new ChunkAttached(created.chunkId(), pool, "h1", "nbd://127.0.0.1:10810/x"),
                        "h1",
                        "crypto-device-service"));

        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .untilAsserted(
                        () ->
                                given().queryParam("pool", pool)
                                        .get("/api/chunks")
                                        .then()
                                        .statusCode(200)
                                        .body("", hasSize(1))
                                        .body("[0].chunkId", equalTo(created.chunkId()))
                                        .body("[0].hostId", equalTo("h1"))
                                        .body("[0].cipher", equalTo("aes-xts-plain64"))
                                        .body("[0].state", equalTo("attached"))
                                        .body(
                                                "[0].deviceAddress",
                                                equalTo("nbd://127.0.0.1:10810/x")));
        given().queryParam("pool", pool)
                .queryParam("state", "provisioned")
                .get("/api/chunks")
                .then()
                .statusCode(200)
                .body("", hasSize(0));
    }

    @Test
    void theSameEventTwiceLeavesOneRowAndOneRecord() {
        String pool = "pool-" + UUID.randomUUID();
        CloudEvent event =
                CloudEvent.of(
                        created(pool, "c-" + UUID.randomUUID()), "h1", "crypto-device-service");
        assertTrue(handler.handle(event));
        assertFalse(handler.handle(event), "a redelivered event changes nothing");
        QuarkusTransaction.requiringNew()
                .run(
                        () -> {
                            assertEquals(1, chunksOf(pool));
                            assertEquals(1, ProcessedEvent.count("eventId", event.id()));
                        });
    }

    @Test
    void redeliveryThroughTheBrokerIsIdempotentToo() throws Exception {
        String pool = "pool-" + UUID.randomUUID();
        CloudEvent event =
                CloudEvent.of(
                        created(pool, "c-" + UUID.randomUUID()), "h1", "crypto-device-service");
        publish(event);
        publish(event);
        CloudEvent marker = CloudEvent.of(created(pool, "c-marker"), "h1", "crypto-device-service");
        publish(marker);
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(
                        () ->
                                QuarkusTransaction.requiringNew()
                                        .call(() -> ProcessedEvent.findById(marker.id()) != null));
        QuarkusTransaction.requiringNew()
                .run(
                        () -> {
                            assertEquals(2, chunksOf(pool));
                            assertEquals(1, ProcessedEvent.count("eventId", event.id()));
                        });
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "state=bogus|state must be one of",
                "limit=0|limit must be a whole number",
                "limit=ten|limit must be a whole number",
                "limit=10001|limit must be a whole number",
            })
    void badQueryParametersGetProblemDetails(String query, String reason) {
        given().get("/api/chunks?" + query)
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("status", equalTo(400))
                .body("detail", containsString(reason));
    }

    @Test
    void healthIsUpWithBrokerAndDatabase() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }

    private static ChunkCreated created(String pool, String chunkId) {
        return new ChunkCreated(
                chunkId,
                pool,
                "h1",
                "/var/szpool/chunks/" + chunkId,
                1L << 30,
                true,
                Cipher.AES_XTS_PLAIN64,
                pool + "/" + chunkId,
                Driver.EMBEDDED);
    }

    private void publish(CloudEvent event) throws Exception {
        Publish.events(bootstrap, List.of(event));
    }
}
