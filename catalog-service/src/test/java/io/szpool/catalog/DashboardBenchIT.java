package io.szpool.catalog;

import io.szpool.testing.KafkaBroker;
import io.szpool.testing.Postgres;
import io.szpool.testing.ServiceProcess;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's first paint alone (run by {@code catalog-service/bench/dashboard}, skipped
 * otherwise): the packaged catalog on an empty database, or on one a previous {@code bench/run}
 * left loaded ({@code szpool.bench.dashboardDb}), so the page can be measured at fleet size without
 * ingesting the fleet again. Prints figures next to the static-server floor (DashboardPaint);
 * asserts nothing about time.
 */
class DashboardBenchIT {
    @Test
    void bench() throws Exception {
        String loads = System.getProperty("szpool.bench.dashboardLoads");
        Assumptions.assumeTrue(loads != null, "a benchmark: run catalog-service/bench/dashboard");
        Postgres pg = Postgres.shared();
        String db = System.getProperty("szpool.bench.dashboardDb", "");
        String url = db.isBlank() ? NewDatabase.create(pg, "dashboard_bench") : db;
        String group = "dashboard-bench-" + UUID.randomUUID().toString().substring(0, 6);
        Path report = Path.of("target", "dashboard-bench.txt");
        try (PrintStream out = new PrintStream(Files.newOutputStream(report), true);
                ServiceProcess catalog =
                        ServiceProcess.start(
                                "catalog-service",
                                "dashboard-bench",
                                CatalogBenchIT.catalogConfig(
                                        KafkaBroker.shared().bootstrapServers(), url, pg, group),
                                List.of("-Xmx1g"))) {
            out.println(
                    "catalog database: "
                            + (db.isBlank() ? "new and empty" : url)
                            + "; "
                            + catalog.get("/api/summary").body());
            DashboardPaint.measure(out, catalog.port(), Integer.parseInt(loads));
        }
        System.out.println(Files.readString(report));
    }
}
