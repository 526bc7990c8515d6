package io.szpool.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.catalog.event.CatalogEventHandler;
import io.szpool.events.CloudEvent;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.PoolEvent.PoolCapacityAlert;
import io.szpool.events.PoolEvent.PoolCreated;
import io.szpool.events.PoolEvent.PoolHealthChanged;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import io.szpool.events.Vocabulary.Health;
import io.szpool.events.Vocabulary.Layout;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.PostgresResource;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in a real headless Chromium: it renders the catalog's hosts, pools and chunks, and
 * a pool that appears on the topics while the page is open shows up with its chunks and its
 * capacity alert, and its events in the live feed, without a reload. No request leaves 127.0.0.1.
 */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresResource.class, scope = TestResourceScope.GLOBAL)
class DashboardBrowserTest {
    static final Duration WAIT = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @TestHTTPResource("/")
    URL root;

    @Inject CatalogEventHandler handler;

    @Test
    void theDashboardShowsTheFleetAndFollowsItLive() throws Exception {
        Assumptions.assumeTrue(
                Chromium.available(),
                Chromium.BINARY
                        + " is not installed (apt-get install chromium); browser test skipped");
        String run = "-" + UUID.randomUUID().toString().substring(0, 4);
        FleetHistory history = new FleetHistory(run);
        history.inOrder().forEach(handler::handle);
        String tank = history.id("tank");
        String site = "http://127.0.0.1:" + root.getPort() + "/";

        try (Chromium browser = Chromium.start(1400, 1100)) {
            // Pools from the other test classes share this catalog, several of them DEGRADED (and
            // so ranked before the new pool); a page of 100 keeps this test's pools on the first.
            browser.navigate(site + "?pools=100");
            browser.await(
                    "hosts, pools and chunks rendered",
                    WAIT,
                    () ->
                            browser.evalTrue(
                                    present("#hosts tr[data-host='" + history.id("h1") + "']")
                                            + " && "
                                            + present(
                                                    "#pools .pool[data-pool='"
                                                            + tank
                                                            + "'] svg.chart circle")
                                            + " && "
                                            + present(
                                                    "#chunks .chunk.faulted[data-chunk='"
                                                            + history.id("c3")
                                                            + "']")
                                            + " && "
                                            + present(
                                                    "#alerts li[data-alert='health'][data-pool='"
                                                            + tank
                                                            + "']")
                                            + " && document.querySelector('#status').textContent === 'live'"));
            // Marks this page: after the events below it must still be the same page, not a reload.
            browser.eval("window.szpoolSamePage = 'yes'");
            // The first paint needs nothing but the page: no stylesheet or script it loaded held
            // rendering back (Chromium's resource timing says which did), and it did paint.
            assertEquals(
                    "[]",
                    browser.eval(
                                    "JSON.stringify(performance.getEntriesByType('resource')"
                                            + ".filter(r => r.renderBlockingStatus === 'blocking')"
                                            + ".map(r => r.name))")
                            .asText());
            assertEquals(
                    "[\"dashboard.css\",\"dashboard.js\"]",
                    browser.eval(
                                    "JSON.stringify(performance.getEntriesByType('resource')"
                                            + ".map(r => r.name.split('/').pop())"
                                            + ".filter(n => /^dashboard/.test(n)).sort())")
                            .asText(),
                    "the page's own files are among its resources, so the check above saw them");
            assertTrue(
                    browser.eval("performance.getEntriesByName('first-contentful-paint').length")
                                    .asInt()
                            == 1);
            // The summary's tiles show what /api/summary answers (read by the page's own fetch).
            assertEquals(
                    browser.eval(
                                    "fetch('/api/summary').then(r => r.json()).then(s => s.pools.total)")
                            .asLong(),
                    count(browser, "pools"));
            long pools = count(browser, "pools");
            long above = count(browser, "pools-above");
            long inPool = count(browser, "chunks-in-pool");
            assertTrue(
                    browser.eval("document.querySelector('#page').textContent")
                            .asText()
                            .endsWith(
                                    " of " + String.format(java.util.Locale.ENGLISH, "%,d", pools)),
                    "the pager counts every pool");

            String photos = "photos" + run;
            String host = history.id("h1");
            List<CloudEvent> events = new ArrayList<>();
            List<String> chunks = new ArrayList<>();
            for (int i = 1; i <= 6; i++) {
                String chunk = "p" + i + run;
                chunks.add(chunk);
                events.add(
                        CloudEvent.of(
                                new ChunkCreated(
                                        chunk,
                                        photos,
                                        host,
                                        "/var/szpool/chunks/" + chunk,
                                        FleetHistory.GIB,
                                        true,
                                        Cipher.AES_XTS_PLAIN64,
                                        photos + "/" + chunk,
                                        Driver.EMBEDDED),
                                host,
                                "crypto-device-service"));
                events.add(
                        CloudEvent.of(
                                new ChunkAttached(
                                        chunk, photos, host, "nbd://127.0.0.1:10810/" + chunk),
                                host,
                                "crypto-device-service"));
            }
            events.add(
                    CloudEvent.of(
                            new PoolCreated(
                                    photos,
                                    host,
                                    "photos",
                                    Layout.RAIDZ2,
                                    6,
                                    List.of(chunks),
                                    FleetHistory.GIB,
                                    4 * FleetHistory.GIB),
                            host,
                            "pool-service"));
            // DEGRADED and 97% full: the first pool of the attention order whatever the other test
            // classes left in the shared catalog (over a hundred DEGRADED pools, none as full), so
            // it is on the page however the classes ran.
            events.add(
                    CloudEvent.of(
                            new PoolHealthChanged(
                                    photos, host, Health.ONLINE, Health.DEGRADED, "p1 faulted"),
                            host,
                            "pool-service"));
            events.add(
                    CloudEvent.of(
                            new PoolCapacityAlert(
                                    photos,
                                    host,
                                    4 * FleetHistory.GIB,
                                    31 * FleetHistory.GIB / 8,
                                    80),
                            host,
                            "pool-service"));
            Publish.events(bootstrap, events);

            browser.await(
                    "the new pool, its chunks, its capacity alert and its events, without reload",
                    WAIT,
                    () ->
                            browser.evalTrue(
                                    present("#pools .pool[data-pool='" + photos + "']")
                                            + " && document.querySelectorAll(\"#chunks .chunk.in-pool[data-chunk$='"
                                            + run
                                            + "'][data-chunk^='p']\").length === 6"
                                            + " && "
                                            + present(
                                                    "#alerts li[data-alert='capacity'][data-pool='"
                                                            + photos
                                                            + "']")
                                            + " && "
                                            + present(
                                                    "#feed li[data-type='io.szpool.pool.capacity-alert.v1']")
                                            + " && window.szpoolSamePage === 'yes'"));
            // The counts follow too: up by at least the new pool (another test class's events
            // may still be arriving on the shared catalog), and what /api/summary answers now.
            browser.await(
                    "the fleet counts up by the new pool, as /api/summary has them, without reload",
                    WAIT,
                    () ->
                            browser.evalTrue(
                                    tile("pools")
                                            + " >= "
                                            + (pools + 1)
                                            + " && "
                                            + tile("pools-above")
                                            + " >= "
                                            + (above + 1)
                                            + " && "
                                            + tile("chunks-in-pool")
                                            + " >= "
                                            + (inPool + 6)
                                            + " && fetch('/api/summary').then(r => r.json())"
                                            + ".then(s => s.pools.total === "
                                            + tile("pools")
                                            + " && s.pools.aboveThreshold === "
                                            + tile("pools-above")
                                            + " && s.chunks.byState['in-pool'] === "
                                            + tile("chunks-in-pool")
                                            + ")"));
            assertTrue(
                    browser.eval(
                                    "document.querySelector(\"#alerts li[data-alert='capacity'][data-pool='"
                                            + photos
                                            + "']\").textContent")
                            .asText()
                            .contains("97% used"));
            assertEquals(
                    "yes", browser.eval("window.szpoolSamePage").asText(), "the page was reloaded");

            browser.screenshot(Path.of("target", "dashboard.png"));
            List<String> requests = browser.requests();
            assertTrue(requests.size() >= 5, "requests seen: " + requests);
            for (String url : requests) {
                assertTrue(
                        url.startsWith(site) || url.startsWith("data:"),
                        "a request left 127.0.0.1: " + url);
            }
        }
    }

    /** A tile of the fleet summary, e.g. "pools", as the page shows it (1,234 is 1234). */
    private static long count(Chromium browser, String key) throws Exception {
        return browser.eval(tile(key)).asLong();
    }

    /** A JavaScript expression: the number a tile of the fleet summary shows. */
    private static String tile(String key) {
        return "Number(document.querySelector(\"#fleet [data-count='"
                + key
                + "'] b\")?.textContent.replace(/,/g, ''))";
    }

    private static String present(String selector) {
        return "document.querySelector(\"" + selector + "\") !== null";
    }
}
