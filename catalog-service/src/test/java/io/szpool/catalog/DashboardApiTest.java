package io.szpool.catalog;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.events.CloudEvent;
import io.szpool.events.PoolEvent.PoolCapacityAlert;
import io.szpool.events.PoolEvent.PoolCreated;
import io.szpool.events.Vocabulary.Layout;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.PostgresResource;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What the dashboard reads to stay bounded at fleet size: the summary's counts (checked as the
 * change one fleet history makes, against the lists of the same rows), pools a page at a time with
 * those needing attention first, and hosts up to a limit. Their bad parameters are among
 * CatalogApiTest's.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresResource.class, scope = TestResourceScope.GLOBAL)
class DashboardApiTest {
    @Inject CatalogEventHandler handler;

    @Test
    void theSummaryCountsWhatAFleetHistoryAdds() {
        JsonPath before = summary("");
        JsonPath strictBefore = summary("?minUsedPercent=99");
        String run = "#" + UUID.randomUUID().toString().substring(0, 6);
        FleetHistory history = new FleetHistory(run);
        history.inOrder().forEach(handler::handle);
        // A pool at 97 %: above the default threshold (80), below 99.
        String full = "full" + run;
        // On a host of its own, heard of now (the history's two hosts last spoke on 2026-11-01).
        String host = history.id("h9");
        handler.handle(
                CloudEvent.of(
                        new PoolCreated(
                                full,
                                host,
                                "full",
                                Layout.RAIDZ2,
                                4,
                                List.of(),
                                FleetHistory.GIB,
                                4 * FleetHistory.GIB),
                        host,
                        "pool-service"));
        handler.handle(
                CloudEvent.of(
                        new PoolCapacityAlert(
                                full, host, 4 * FleetHistory.GIB, 31 * FleetHistory.GIB / 8, 80),
                        host,
                        "pool-service"));
        JsonPath after = summary("");

        assertEquals(3, delta(before, after, "hosts.total"));
        assertEquals(2, delta(before, after, "hosts.notSeen"));
        // tank and full are live, scratch is destroyed.
        assertEquals(2, delta(before, after, "pools.total"));
        String tank = history.id("tank");
        String tankHealth =
                given().get("/api/pools/" + tank)
                        .then()
                        .statusCode(200)
                        .extract()
                        .path("pool.health");
        assertEquals("DEGRADED", tankHealth);
        assertEquals(1, delta(before, after, "pools.byHealth.DEGRADED"));
        assertEquals(1, delta(before, after, "pools.byHealth.ONLINE"));
        assertEquals(1, delta(before, after, "pools.aboveThreshold"));
        assertEquals(
                0,
                summary("?minUsedPercent=99").getLong("pools.aboveThreshold")
                        - strictBefore.getLong("pools.aboveThreshold"));
        // Neither has a backup newer than a day (tank's is from 2026-11-01, full has none).
        assertEquals(2, delta(before, after, "pools.syncLagging"));
        JsonPath tankNow = given().get("/api/pools/" + tank).then().extract().jsonPath();
        assertEquals(
                tankNow.getLong("pool.sizeBytes") + 4 * FleetHistory.GIB,
                delta(before, after, "pools.sizeBytes"));
        assertEquals(
                tankNow.getLong("pool.allocatedBytes") + 31 * FleetHistory.GIB / 8,
                delta(before, after, "pools.allocatedBytes"));

        // Chunks by state: the change is what the chunk list says of the history's two pools.
        Map<String, Integer> states = new HashMap<>();
        int live = 0;
        for (String pool : List.of(tank, history.id("scratch"))) {
            for (Map<String, Object> c :
                    given().queryParam("pool", pool)
                            .get("/api/chunks")
                            .then()
                            .statusCode(200)
                            .extract()
                            .jsonPath()
                            .<Map<String, Object>>getList("")) {
                states.merge((String) c.get("state"), 1, Integer::sum);
                if (!"destroyed".equals(c.get("state"))) {
                    live++;
                }
            }
        }
        assertEquals(12, states.values().stream().mapToInt(Integer::intValue).sum());
        assertEquals(12, delta(before, after, "chunks.total"));
        for (String state : List.of("provisioned", "attached", "in-pool", "faulted", "destroyed")) {
            assertEquals(
                    states.getOrDefault(state, 0).longValue(),
                    delta(before, after, "chunks.byState.'" + state + "'"),
                    state);
        }
        assertTrue(states.getOrDefault("faulted", 0) >= 1, "c3 failed: " + states);
        // Every live chunk of the history was last copied weeks ago, or never.
        assertEquals(live, delta(before, after, "chunks.unsynced"));
        assertEquals(80, after.getInt("thresholds.minUsedPercent"));
        assertEquals("PT15M", after.getString("thresholds.notSeenFor"));
    }

    @Test
    void poolsComeAPageAtATimeThoseNeedingAttentionFirst() {
        FleetHistory history = new FleetHistory("+" + UUID.randomUUID().toString().substring(0, 6));
        history.inOrder().forEach(handler::handle);
        List<Map<String, Object>> all = attention(10_000, 0);
        assertTrue(all.size() >= 2, "pools: " + all.size());
        // The rank never goes back: unhealthy live pools, the other live pools fullest first,
        // destroyed pools last.
        for (int i = 1; i < all.size(); i++) {
            Map<String, Object> a = all.get(i - 1);
            Map<String, Object> b = all.get(i);
            assertTrue(
                    rank(a) < rank(b) || rank(a) == rank(b) && used(a) >= used(b),
                    "out of order: " + a.get("poolId") + " before " + b.get("poolId"));
        }
        int tank = indexOf(all, history.id("tank"));
        int scratch = indexOf(all, history.id("scratch"));
        assertTrue(tank >= 0 && scratch > tank, "tank (DEGRADED) before scratch (destroyed)");
        assertEquals(0, rank(all.get(0)), "a DEGRADED pool exists, so one comes first");

        // Pages are slices of the same order.
        for (int offset = 0; offset < Math.min(all.size(), 6); offset += 2) {
            List<Map<String, Object>> page = attention(2, offset);
            assertEquals(
                    all.subList(offset, Math.min(all.size(), offset + 2)).stream()
                            .map(p -> p.get("poolId"))
                            .toList(),
                    page.stream().map(p -> p.get("poolId")).toList());
        }
        // The default order is by id, and the limit cuts it.
        List<String> byId =
                given().queryParam("limit", "10000")
                        .get("/api/pools")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("poolId");
        assertEquals(byId.stream().sorted().toList(), byId);
        assertEquals(
                byId.subList(0, 1),
                given().queryParam("limit", "1").get("/api/pools").then().extract().path("poolId"));
        // Filters apply before the page is cut: one page of the host's pools only.
        assertEquals(
                List.of(history.id("tank")),
                given().queryParam("host", history.id("h1"))
                        .queryParam("order", "attention")
                        .queryParam("limit", "5")
                        .get("/api/pools")
                        .then()
                        .extract()
                        .path("poolId"));
    }

    @Test
    void hostsComeUpToALimit() {
        new FleetHistory("%" + UUID.randomUUID().toString().substring(0, 6))
                .inOrder()
                .forEach(handler::handle);
        List<String> all =
                given().queryParam("limit", "10000")
                        .get("/api/hosts")
                        .then()
                        .statusCode(200)
                        .extract()
                        .path("hostId");
        assertTrue(all.size() >= 2);
        JsonPath one =
                given().queryParam("limit", "1").get("/api/hosts").then().extract().jsonPath();
        assertEquals(all.subList(0, 1), one.getList("hostId"));
        // The limit counts hosts, not host-and-service rows: the host keeps all its services.
        assertEquals(
                given().get("/api/hosts")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("[0].services")
                        .size(),
                one.getList("[0].services").size());
    }

    @Test
    void theOpenApiDocumentDescribesWhatTheDashboardReads() {
        JsonPath api =
                given().queryParam("format", "json")
                        .get("/q/openapi")
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath();
        assertEquals(
                List.of("minUsedPercent", "notSeenFor", "syncLagOver", "unsyncedFor"),
                api.getList("paths.'/api/summary'.get.parameters.name").stream().sorted().toList());
        assertTrue(
                api.getList("paths.'/api/pools'.get.parameters.name")
                        .containsAll(List.of("order", "limit", "offset")));
        assertTrue(api.getList("paths.'/api/hosts'.get.parameters.name").contains("limit"));
    }

    private static List<Map<String, Object>> attention(int limit, int offset) {
        return given().queryParam("order", "attention")
                .queryParam("limit", String.valueOf(limit))
                .queryParam("offset", String.valueOf(offset))
                .get("/api/pools")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("");
    }

    private static JsonPath summary(String query) {
        return given().get("/api/summary" + query).then().statusCode(200).extract().jsonPath();
    }

    private static long delta(JsonPath before, JsonPath after, String path) {
        return number(after.get(path)) - number(before.get(path));
    }

    private static long number(Object value) {
        return value == null ? 0 : ((Number) value).longValue();
    }

    private static int rank(Map<String, Object> pool) {
        if ("destroyed".equals(pool.get("state"))) {
            return 2;
        }
        Object health = pool.get("health");
        return health != null && !"ONLINE".equals(health) ? 0 : 1;
    }

    private static double used(Map<String, Object> pool) {
        Object used = pool.get("usedPercent");
        return used == null ? -1 : ((Number) used).doubleValue();
    }

    private static int indexOf(List<Map<String, Object>> pools, String id) {
        for (int i = 0; i < pools.size(); i++) {
            if (id.equals(pools.get(i).get("poolId"))) {
                return i;
            }
        }
        return -1;
    }
}
