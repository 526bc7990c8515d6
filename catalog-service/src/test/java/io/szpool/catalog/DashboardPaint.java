package io.szpool.catalog;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The dashboard's first contentful paint (Chromium's {@code first-contentful-paint} entry) and its
 * first full render, p50 and p99 over repeated loads, next to the named peer: the same static files
 * served by {@code python3 -m http.server} on 127.0.0.1 in the same Chromium, the floor that no
 * server can beat. Prints figures; asserts nothing about time.
 */
final class DashboardPaint {
    private static final Path STATIC = Path.of("target", "classes", "META-INF", "resources");
    private static final Pattern SERVING = Pattern.compile("port (\\d+)");

    private DashboardPaint() {}

    /** Measures the floor, then the catalog at {@code port}, {@code loads} loads each. */
    static void measure(PrintStream out, int port, int loads) throws Exception {
        if (!Chromium.available()) {
            out.println("dashboard first paint: skipped, " + Chromium.BINARY + " is not installed");
            return;
        }
        out.printf(Locale.ROOT, "load average before the dashboard: %s%n", loadavg());
        double[] floor;
        Process server =
                new ProcessBuilder("python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1")
                        .directory(STATIC.toFile())
                        .redirectErrorStream(true)
                        .start();
        try {
            BufferedReader lines =
                    new BufferedReader(
                            new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            Matcher m = SERVING.matcher(lines.readLine());
            if (!m.find()) {
                throw new IllegalStateException("python3 http.server did not say its port");
            }
            // Its request log goes to the pipe; drained so the server never blocks on it.
            Thread drain =
                    new Thread(
                            () -> {
                                try {
                                    while (lines.readLine() != null) {
                                        // Discarded.
                                    }
                                } catch (Exception e) {
                                    // The server stopped.
                                }
                            });
            drain.setDaemon(true);
            drain.start();
            floor = loads(Integer.parseInt(m.group(1)), loads, false);
        } finally {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
        }
        double[] catalog = loads(port, loads, true);
        out.printf(
                Locale.ROOT,
                "dashboard first contentful paint over %d loads: floor (the same index.html,"
                        + " dashboard.css and dashboard.js from python3 -m http.server, same"
                        + " Chromium) p50 %.0f ms, p99 %.0f ms; catalog p50 %.0f ms, p99 %.0f ms;"
                        + " ratio catalog/floor p50 %.2fx, p99 %.2fx%n",
                loads,
                floor[0],
                floor[1],
                catalog[0],
                catalog[1],
                catalog[0] / floor[0],
                catalog[1] / floor[1]);
        out.printf(
                Locale.ROOT,
                "dashboard fleet rendered (summary, hosts, alerts, a page of pools with charts and"
                        + " their chunks) p50 %.0f ms, p99 %.0f ms%n",
                catalog[2],
                catalog[3]);
        HttpClient http = HttpClient.newHttpClient();
        for (String path :
                List.of(
                        // Reused while nothing is cataloged (SummaryCache), as when a page reloads.
                        "/api/summary",
                        // Two thresholds in turn: each request counts again, as while ingesting.
                        "/api/summary?minUsedPercent={79|81}",
                        "/api/pools?order=attention&limit=12",
                        "/api/hosts?limit=50",
                        "/api/chunks?state=faulted&limit=4")) {
            double[] t = requests(http, port, path, 40);
            if (t[2] < 0) {
                out.printf(Locale.ROOT, "  GET %s: answered %d%n", path, (int) -t[2]);
                continue;
            }
            out.printf(
                    Locale.ROOT,
                    "  GET %s: p50 %.1f ms, p99 %.1f ms over %d requests (after as many to warm"
                            + " up), %d bytes%n",
                    path,
                    t[0],
                    t[1],
                    40,
                    (long) t[2]);
        }
        out.printf(Locale.ROOT, "load average after the dashboard: %s%n", loadavg());
    }

    /** FCP p50, p99 and (when the page renders the fleet) full render p50, p99. */
    private static double[] loads(int port, int loads, boolean rendered) throws Exception {
        List<Double> paint = new ArrayList<>();
        List<Double> render = new ArrayList<>();
        try (Chromium browser = Chromium.start(1400, 1000)) {
            for (int i = 0; i < loads; i++) {
                browser.navigate("http://127.0.0.1:" + port + "/?load=" + i);
                String done =
                        "location.search === '?load="
                                + i
                                + "' && performance.getEntriesByName('first-contentful-paint')"
                                + ".length > 0"
                                + (rendered
                                        ? " && typeof window.szpoolFirstRender === 'number'"
                                        : "");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (!browser.evalTrue(done)) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException(
                                "the dashboard did not render on port " + port);
                    }
                    Thread.sleep(50);
                }
                paint.add(
                        browser.eval(
                                        "performance.getEntriesByName('first-contentful-paint')[0]"
                                                + ".startTime")
                                .asDouble());
                if (rendered) {
                    render.add(browser.eval("window.szpoolFirstRender").asDouble());
                }
            }
        }
        return rendered
                ? new double[] {p(paint, 50), p(paint, 99), p(render, 50), p(render, 99)}
                : new double[] {p(paint, 50), p(paint, 99)};
    }

    private static double[] requests(HttpClient http, int port, String path, int n)
            throws Exception {
        long bytes = 0;
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < 2 * n; i++) {
            String[] turns = path.replaceAll(".*\\{(.*)}.*", "$1").split("\\|");
            String p = path.contains("{") ? path.replaceAll("\\{.*}", turns[i % 2]) : path;
            HttpRequest request =
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + p)).build();
            long t = System.nanoTime();
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                // A catalog without this endpoint (an older one, measured for comparison).
                return new double[] {Double.NaN, Double.NaN, -r.statusCode()};
            }
            if (i >= n) {
                ms.add((System.nanoTime() - t) / 1e6);
            }
            bytes = r.body().getBytes(StandardCharsets.UTF_8).length;
        }
        return new double[] {p(ms, 50), p(ms, 99), bytes};
    }

    private static double p(List<Double> values, int percentile) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return percentile == 50
                ? sorted.get(n / 2)
                : sorted.get(Math.min(n - 1, (int) Math.ceil(n * percentile / 100.0) - 1));
    }

    private static String loadavg() throws Exception {
        return Files.readString(Path.of("/proc/loadavg")).trim();
    }
}
