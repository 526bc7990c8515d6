package io.szpool.catalog;

import static io.restassured.RestAssured.given;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.events.CloudEvent;
import io.szpool.events.CloudEventRecords;
import io.szpool.events.PoolEvent.PoolCapacityAlert;
import io.szpool.events.Topics;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.PostgresResource;
import io.szpool.testing.TopicReader;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The catalog's API over a whole fleet history, published on the real topics. */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresResource.class, scope = TestResourceScope.GLOBAL)
class CatalogApiTest {
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @TestHTTPResource("/api/events/stream")
    URL streamUrl;

    @Inject CatalogEventHandler handler;

    @Test
    void aFleetHistoryOnAllFourTopicsBecomesTheCatalog() throws Exception {
        FleetHistory history = new FleetHistory("~" + UUID.randomUUID().toString().substring(0, 8));
        String tank = history.id("tank");
        int tankEvents = history.ofPool(tank).size();
        publish(history.inOrder());
        Awaitility.await()
                .atMost(Duration.ofSeconds(60))
                .untilAsserted(
                        () ->
                                given().queryParam("pool", tank)
                                        .queryParam("limit", "1000")
                                        .get("/api/events")
                                        .then()
                                        .statusCode(200)
                                        .body("events", hasSize(tankEvents)));

        JsonPath pool =
                given().get("/api/pools/" + tank).then().statusCode(200).extract().jsonPath();
        assertEquals("tank", pool.getString("pool.name"));
        assertEquals(history.id("h1"), pool.getString("pool.hostId"));
        assertEquals("DEGRADED", pool.getString("pool.health"));
        assertEquals(4 * FleetHistory.GIB, pool.getLong("pool.sizeBytes"));
        assertEquals(1, pool.getLong("pool.lastSyncedGeneration"));
        assertEquals(
                List.of(history.id("c5"), history.id("c6"), history.id("c7"), history.id("c8")),
                pool.getList("vdevs[1].chunkIds"));
        assertEquals("faulted", pool.getString("vdevs[0].chunks[2].state"));
        assertEquals("capacity-alert", pool.getString("growth[0].trigger"));

        given().get("/api/pools/" + tank + "/generations")
                .then()
                .statusCode(200)
                .body("generation", equalTo(List.of(2, 1)))
                .body("state", equalTo(List.of("failed", "completed")))
                .body("[1].chunksSynced", equalTo(4));

        // The history is from November 2026's first hours, so every chunk is long unsynced.
        given().queryParam("pool", tank)
                .queryParam("unsyncedFor", "P1D")
                .get("/api/chunks")
                .then()
                .statusCode(200)
                .body("", hasSize(8));
        given().queryParam("pool", tank)
                .queryParam("unsyncedFor", "P36500D")
                .get("/api/chunks")
                .then()
                .statusCode(200)
                .body(
                        "chunkId",
                        equalTo(List.of(history.id("c6"), history.id("c7"), history.id("c8"))));
        given().queryParam("pool", tank)
                .queryParam("state", "faulted")
                .get("/api/chunks")
                .then()
                .body("chunkId", equalTo(List.of(history.id("c3"))));

        given().queryParam("minUsedPercent", "40")
                .get("/api/pools")
                .then()
                .statusCode(200)
                .body("poolId", hasItem(tank))
                .body("poolId", not(hasItem(history.id("scratch"))));
        given().queryParam("notSeenFor", "P1D")
                .get("/api/hosts")
                .then()
                .statusCode(200)
                .body("hostId", hasItems(history.id("h1"), history.id("h2")));
        given().get("/api/hosts")
                .then()
                .body(
                        "find { it.hostId == '" + history.id("h2") + "' }.services.service",
                        equalTo(
                                List.of(
                                        "cli",
                                        "crypto-device-service",
                                        "pool-service",
                                        "sync-service")));

        // Sync lag per pool: tank's last completed generation is weeks old, scratch never had one.
        given().queryParam("syncLagOver", "P1D")
                .get("/api/pools")
                .then()
                .statusCode(200)
                .body("poolId", hasItems(tank, history.id("scratch")))
                .body("find { it.poolId == '" + tank + "' }.syncLagSeconds", greaterThan(86400));
        given().queryParam("syncLagOver", "P36500D")
                .get("/api/pools")
                .then()
                .body("poolId", not(hasItem(tank)))
                .body("poolId", hasItem(history.id("scratch")));

        // The same fleet in Prometheus' words; gauges are refreshed at most every five seconds.
        String tagged = "{pool=\"" + tank + "\"}";
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .untilAsserted(
                        () ->
                                given().get("/q/metrics")
                                        .then()
                                        .statusCode(200)
                                        .body(
                                                containsString(
                                                        "szpool_catalog_pool_size_bytes"
                                                                + tagged
                                                                + " "
                                                                + (double) (4 * FleetHistory.GIB)))
                                        .body(
                                                containsString(
                                                        "szpool_catalog_pool_health{health=\"DEGRADED\",pool=\""
                                                                + tank
                                                                + "\"} 1.0"))
                                        .body(
                                                containsString(
                                                        "szpool_catalog_pool_allocated_bytes"
                                                                + tagged))
                                        .body(
                                                containsString(
                                                        "szpool_catalog_pool_last_sync_age_seconds"
                                                                + tagged))
                                        .body(
                                                containsString(
                                                        "szpool_catalog_pool_sync_lag_seconds"
                                                                + tagged))
                                        .body(
                                                containsString(
                                                        "szpool_catalog_chunks{state=\"faulted\"}"))
                                        .body(
                                                containsString(
                                                        "szpool_catalog_events_consumed_total{topic=\"szpool.sync-events\"}"))
                                        .body(
                                                matchesPattern(
                                                        "(?s).*szpool_catalog_consumer_lag_records\\{topic=\"szpool.pool-events\"\\} [0-9.]+.*")));
    }

    @Test
    void eventsArePagedByCursorAndFilteredByType() throws Exception {
        FleetHistory history = new FleetHistory("~" + UUID.randomUUID().toString().substring(0, 8));
        String tank = history.id("tank");
        history.inOrder().forEach(handler::handle);
        List<String> ids = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            var request = given().queryParam("pool", tank).queryParam("limit", "7");
            if (after != null) {
                request.queryParam("after", after);
            }
            JsonPath page = request.get("/api/events").then().statusCode(200).extract().jsonPath();
            ids.addAll(page.getList("events.id"));
            after = page.getString("next");
            pages++;
        } while (after != null);
        List<String> expected = history.ofPool(tank).stream().map(CloudEvent::id).toList();
        assertEquals(expected, ids);
        assertEquals((expected.size() + 6) / 7, pages);
        given().queryParam("pool", tank)
                .queryParam("type", "io.szpool.chunk.synced.v1")
                .get("/api/events")
                .then()
                .body("events", hasSize(6))
                .body("events[0].payload.generation", equalTo(1))
                .body("next", nullValue());
    }

    @Test
    void theStreamShowsNewEventsOfItsPool() throws Exception {
        String pool = "pool-" + UUID.randomUUID();
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(streamUrl + "?pool=" + pool))
                        .header("Accept", "text/event-stream")
                        .build();
        CompletableFuture<String> firstData =
                client.sendAsync(request, HttpResponse.BodyHandlers.ofLines())
                        .thenApply(
                                response -> {
                                    assertEquals(200, response.statusCode());
                                    return response.body()
                                            .filter(line -> line.startsWith("data:"))
                                            .findFirst()
                                            .orElse(null);
                                });
        // Another pool's event first: the filter must hold it back.
        handler.handle(alert("pool-" + UUID.randomUUID()));
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(
                        () -> {
                            // The stream only shows what is cataloged after it opened, so new
                            // events go on until one comes through.
                            handler.handle(alert(pool));
                            return firstData.isDone();
                        });
        String data = firstData.get(5, TimeUnit.SECONDS);
        assertTrue(data.contains("\"poolId\":\"" + pool + "\""), data);
        assertTrue(data.contains("\"thresholdPercent\":80"), data);
    }

    @Test
    void misplacedUnknownAndMalformedEventsAreDeadLetteredWithTheirReason() throws Exception {
        String pool = "pool-" + UUID.randomUUID();
        CloudEvent alert = alert(pool);
        // A pool event on the device topic.
        ProducerRecord<String, String> misplaced = CloudEventRecords.toProducerRecord(alert);
        send(
                new ProducerRecord<>(
                        Topics.DEVICE_EVENTS, null, pool, misplaced.value(), misplaced.headers()));
        // A type nobody knows, and a body that is not JSON.
        ProducerRecord<String, String> unknown = CloudEventRecords.toProducerRecord(alert(pool));
        unknown.headers().remove("ce_type");
        unknown.headers().add("ce_type", "io.szpool.pool.teleported.v1".getBytes(UTF_8));
        send(unknown);
        ProducerRecord<String, String> broken = CloudEventRecords.toProducerRecord(alert(pool));
        send(new ProducerRecord<>(Topics.POOL_EVENTS, null, pool, "{not json", broken.headers()));
        List<String> reasons = deadLetterReasons(pool, 3);
        assertEquals(3, reasons.size(), reasons.toString());
        assertTrue(
                reasons.stream()
                        .anyMatch(r -> r.contains("does not belong on szpool.device-events")),
                reasons.toString());
        assertTrue(
                reasons.stream().anyMatch(r -> r.contains("io.szpool.pool.teleported.v1")),
                reasons.toString());
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .untilAsserted(
                        () ->
                                given().get("/q/metrics")
                                        .then()
                                        .body(
                                                containsString(
                                                        "szpool_catalog_events_dead_lettered_total{topic=\"szpool.device-events\"}")));
        // Consumption goes on: a good event after the bad one is cataloged.
        send(CloudEventRecords.toProducerRecord(alert));
        awaitEventsOf(pool, 1);
        given().get("/q/metrics")
                .then()
                .body(containsString("szpool_catalog_chunks{state=\"in-pool\"}"))
                .body(containsString("szpool_catalog_events_consumed_total"));
    }

    @Test
    void anEventThatReadsButCannotBeStoredIsDeadLetteredAndItsBatchIsCataloged() throws Exception {
        String pool = "pool-" + UUID.randomUUID();
        // Valid for the events module (non-blank), too long for the catalog's varchar(128) ids.
        String unstorable = "pool-" + "x".repeat(200);
        // One partition, so that one consumer polls the three together and must split the batch.
        List<ProducerRecord<String, String>> onePartition = new ArrayList<>();
        for (CloudEvent event : List.of(alert(pool), alert(unstorable), alert(pool))) {
            ProducerRecord<String, String> r = CloudEventRecords.toProducerRecord(event);
            onePartition.add(new ProducerRecord<>(r.topic(), 0, r.key(), r.value(), r.headers()));
        }
        Publish.records(bootstrap, onePartition);
        List<String> reasons = deadLetterReasons(unstorable, 1);
        assertEquals(1, reasons.size(), reasons.toString());
        awaitEventsOf(pool, 2);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "/api/chunks?unsyncedFor=yesterday|unsyncedFor must be an ISO-8601 duration",
                "/api/chunks?unsyncedFor=-PT1H|unsyncedFor must be an ISO-8601 duration",
                "/api/hosts?notSeenFor=1h|notSeenFor must be an ISO-8601 duration",
                "/api/pools?minUsedPercent=101|minUsedPercent must be a whole number",
                "/api/pools?syncLagOver=x|syncLagOver must be an ISO-8601 duration",
                "/api/events?after=abc|after must be a cursor",
                "/api/events?limit=0|limit must be a whole number",
                "/api/events?type=io.szpool.nope.v1|type must be an szpool event type",
                "/api/events/stream?type=nope|type must be an szpool event type",
                "/api/pools?minUsedPercent=most|minUsedPercent must be a whole number",
                "/api/chunks?limit=-1|limit must be a whole number",
                "/api/chunks?stat=faulted|unknown query parameter 'stat'; this endpoint takes"
                        + " host, limit, pool, state, unsyncedFor",
                "/api/hosts?notseenfor=PT1H|unknown query parameter 'notseenfor'",
                "/api/pools?used=80|unknown query parameter 'used'",
                "/api/pools/tank?verbose=1|unknown query parameter 'verbose'; this endpoint takes"
                        + " none",
                "/api/pools/tank/generations?limit=5|unknown query parameter 'limit'",
                "/api/events?cursor=5|unknown query parameter 'cursor'",
                "/api/events/stream?pools=x|unknown query parameter 'pools'",
                // What the dashboard reads (DashboardApiTest).
                "/api/summary?minUsedPercent=101|minUsedPercent must be a whole number from 0 to"
                        + " 100",
                "/api/summary?notSeenFor=soon|notSeenFor must be an ISO-8601 duration",
                "/api/summary?syncLagOver=P1X|syncLagOver must be an ISO-8601 duration",
                "/api/summary?unsyncedFor=-P1D|unsyncedFor must be an ISO-8601 duration",
                "/api/summary?pool=tank|unknown query parameter 'pool'; this endpoint takes"
                        + " minUsedPercent, notSeenFor, syncLagOver, unsyncedFor",
                "/api/pools?order=fullest|order must be id or attention, was 'fullest'",
                "/api/pools?limit=0|limit must be a whole number from 1 to 10000",
                "/api/pools?limit=10001|limit must be a whole number from 1 to 10000",
                "/api/pools?offset=-1|offset must be a whole number",
                "/api/pools?offset=first|offset must be a whole number",
                "/api/pools?page=2|unknown query parameter 'page'; this endpoint takes host, limit,"
                        + " minUsedPercent, offset, order, syncLagOver",
                "/api/hosts?limit=all|limit must be a whole number from 1 to 10000",
                "/api/hosts?offset=5|unknown query parameter 'offset'",
            })
    void badQueryParametersGetProblemDetails(String path, String reason) {
        given().get(path)
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("status", equalTo(400))
                .body("detail", containsString(reason));
    }

    @Test
    void theDashboardIsServedByTheServiceItself() {
        // Everything it needs comes from the service: no absolute URL, so no CDN.
        given().get("/")
                .then()
                .statusCode(200)
                .contentType(containsString("text/html"))
                .body(containsString("szpool fleet"))
                .body(not(containsString("//")));
        given().get("/dashboard.js")
                .then()
                .statusCode(200)
                .body(containsString("new EventSource(\"/api/events/stream\")"))
                .body(not(containsString("http")));
        given().get("/dashboard.css").then().statusCode(200);
    }

    @Test
    void anUnknownPoolIs404() {
        given().get("/api/pools/nope-" + UUID.randomUUID())
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        given().get("/api/pools/nope-" + UUID.randomUUID() + "/generations").then().statusCode(404);
    }

    /** Waits until the catalog's event log holds {@code count} events of {@code pool}. */
    private static void awaitEventsOf(String pool, int count) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .untilAsserted(
                        () ->
                                given().queryParam("pool", pool)
                                        .get("/api/events")
                                        .then()
                                        .body("events", hasSize(count)));
    }

    /** The reasons of the dead letters keyed {@code key}, once {@code count} arrived (or 60 s). */
    private List<String> deadLetterReasons(String key, int count) throws Exception {
        try (TopicReader deadLetters = new TopicReader(bootstrap, Topics.DEAD_LETTERS)) {
            return deadLetters
                    .records(r -> key.equals(r.key()), count, Duration.ofSeconds(60))
                    .stream()
                    .map(
                            r ->
                                    new String(
                                            r.headers().lastHeader("dead-letter-reason").value(),
                                            UTF_8))
                    .toList();
        }
    }

    private static CloudEvent alert(String pool) {
        return CloudEvent.of(new PoolCapacityAlert(pool, "h1", 100, 90, 80), "h1", "pool-service");
    }

    private void publish(List<CloudEvent> events) throws Exception {
        Publish.events(bootstrap, events);
    }

    private void send(ProducerRecord<String, String> record) throws Exception {
        Publish.records(bootstrap, List.of(record));
    }
}
