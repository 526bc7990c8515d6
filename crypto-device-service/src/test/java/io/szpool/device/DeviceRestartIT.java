package io.szpool.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.testing.KafkaBroker;
import io.szpool.testing.ProjectLayout;
import io.szpool.testing.ServiceProcess;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The packaged service as a user runs it, stopped and started again on the same data folder: 256
 * MiB written through a chunk's NBD export with {@code nbdcopy} read back the same before and after
 * the restart, the chunk re-attached on its own; a snapshot does not survive the restart.
 */
class DeviceRestartIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "restart-" + UUID.randomUUID().toString().substring(0, 8);
    private final Path dir = ProjectLayout.target().resolve("device-restart-it").resolve(HOST);
    private ServiceProcess service;

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void nbdcopyReadsTheSame256MiBBeforeAndAfterARestart() throws Exception {
        assumeTrue(LocalTools.onPath("nbdcopy"), "nbdcopy (libnbd-bin) is not installed");
        Files.createDirectories(dir);
        Path passphrase = dir.resolve("passphrase");
        Files.writeString(passphrase, "restart passphrase\n");
        Path in = dir.resolve("in.img");
        Path out = dir.resolve("out.img");
        LocalTools.writeRandom(in, 256, 256);
        String written = LocalTools.sha256(in);

        service = start(passphrase, 1);
        HttpResponse<String> made =
                service.postJson(
                        "/chunks", "{\"poolId\":\"restart\",\"count\":1,\"sizeBytes\":268435456}");
        assertEquals(201, made.statusCode(), made.body());
        JsonNode chunk = JSON.readTree(made.body()).path("chunks").path(0);
        String chunkId = chunk.path("chunkId").asText();
        String address = chunk.path("deviceAddress").asText();
        LocalTools.run("nbdcopy", "--flush", in.toString(), address);
        LocalTools.run("nbdcopy", address, out.toString());
        assertEquals(written, LocalTools.sha256(out), "read back before the restart");
        HttpResponse<String> snap = service.postJson("/snapshots", "{\"poolId\":\"restart\"}");
        assertEquals(201, snap.statusCode(), snap.body());
        JsonNode before = JSON.readTree(snap.body());
        Files.delete(out);

        service.close();
        service = start(passphrase, 2);
        HttpResponse<String> shown = service.get("/chunks/" + chunkId);
        assertEquals(200, shown.statusCode(), shown.body());
        String again = JSON.readTree(shown.body()).path("deviceAddress").asText();
        assertNotEquals("", again, "re-attached on start: " + shown.body());
        LocalTools.run("nbdcopy", again, out.toString());
        assertEquals(written, LocalTools.sha256(out), "read back after the restart");

        String sid = before.path("snapshotId").asText();
        assertEquals(404, service.get("/snapshots/" + sid).statusCode(), "snapshots end");
        HttpResponse<String> later = service.postJson("/snapshots", "{\"poolId\":\"restart\"}");
        assertEquals(201, later.statusCode(), later.body());
        assertNotEquals(
                before.path("chunks").path(0).path("epoch").asText(),
                JSON.readTree(later.body()).path("chunks").path(0).path("epoch").asText(),
                "a restart opens the device in a new epoch");
        Files.delete(in);
        Files.delete(out);
    }

    private ServiceProcess start(Path passphrase, int run) {
        return ServiceProcess.start(
                "crypto-device-service",
                "device-restart-" + HOST + "-" + run,
                Map.of(
                        "kafka.bootstrap.servers", KafkaBroker.shared().bootstrapServers(),
                        "szpool.host-id", HOST,
                        "szpool.device.data-dir", dir.resolve("data").toString(),
                        "szpool.device.nbd.port", "0",
                        "szpool.device.passphrase-file", passphrase.toString()));
    }
}
