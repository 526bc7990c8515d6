package io.szpool.pool.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.raidz.DeviceStatus;
import io.szpool.raidz.Health;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The zfs driver reads zpool's answers right: transcripts of real outputs
 * (src/test/resources/zpool).
 */
class ZpoolStatusTest {
    private static final String M = "/dev/mapper/szpool-";

    @Test
    void aHealthyPoolOfTwoVdevs() throws IOException {
        ZpoolStatus s = ZpoolStatus.parse(transcript("healthy-two-vdevs.txt"));
        assertEquals("tank", s.pool());
        assertEquals(Health.ONLINE, s.state());
        assertEquals(2, s.vdevs().size());
        assertEquals("raidz2-1", s.vdevs().get(1).name());
        for (ZpoolStatus.VdevStatus v : s.vdevs()) {
            assertEquals(6, v.devices().size());
            for (DeviceStatus d : v.devices()) {
                assertEquals(Health.ONLINE, d.state());
                assertEquals(v.index(), d.vdev());
                assertEquals(0, d.readErrors() + d.writeErrors() + d.checksumErrors());
            }
        }
        assertEquals(M + "c6", s.vdevs().get(1).devices().get(0).device());
        assertEquals(5, s.vdevs().get(1).devices().get(5).column());
        assertEquals(new ScanState("scrub", "finished", 100, 0, 0), s.scan().orElseThrow());
    }

    @Test
    void aMissingDeviceIsNamedByThePathItHad() throws IOException {
        ZpoolStatus s = ZpoolStatus.parse(transcript("degraded-missing-device.txt"));
        assertEquals(Health.DEGRADED, s.state());
        assertEquals(Health.DEGRADED, s.vdevs().get(0).state());
        DeviceStatus missing = s.vdevs().get(0).devices().get(1);
        assertEquals(M + "c1", missing.device());
        assertEquals(Health.UNAVAIL, missing.state());
        assertEquals(1, missing.column());
        assertTrue(s.scan().isEmpty(), "none requested");
    }

    @Test
    void aScrubInProgressShowsItsProgressAndRepairs() throws IOException {
        ZpoolStatus s = ZpoolStatus.parse(transcript("scrub-in-progress.txt"));
        assertEquals(Health.ONLINE, s.state());
        assertEquals(
                new ScanState("scrub", "running", 15.81, 44 * 1024, 0), s.scan().orElseThrow());
        DeviceStatus repairing = s.vdevs().get(0).devices().get(0);
        assertEquals(1, repairing.checksumErrors());
        assertEquals(M + "c0", repairing.device());
    }

    @Test
    void aFinishedScrubReportsRepairedBytesAndChecksumCounts() throws IOException {
        ZpoolStatus s = ZpoolStatus.parse(transcript("scrub-repaired.txt"));
        ScanState scan = s.scan().orElseThrow();
        assertEquals("finished", scan.state());
        assertEquals(8704, scan.repairedBytes()); // 8.50K
        assertEquals(0, scan.errors());
        List<DeviceStatus> devices = s.vdevs().get(0).devices();
        assertEquals(55, devices.get(0).checksumErrors());
        assertEquals(22, devices.get(2).checksumErrors());
    }

    @Test
    void aFaultedDeviceAndAbbreviatedCountsAndNoLogDevices() throws IOException {
        ZpoolStatus s = ZpoolStatus.parse(transcript("faulted-device.txt"));
        assertEquals(Health.DEGRADED, s.state());
        assertEquals(1, s.vdevs().size(), "the logs section is not a data vdev");
        List<DeviceStatus> devices = s.vdevs().get(0).devices();
        assertEquals(6, devices.size());
        assertEquals(Health.FAULTED, devices.get(0).state());
        assertEquals(2, devices.get(0).readErrors());
        assertEquals(292, devices.get(0).writeErrors());
        assertEquals(135L << 20, devices.get(2).checksumErrors());
        assertEquals(Health.UNAVAIL, devices.get(3).state(), "REMOVED serves nothing");
        assertEquals("resilver", s.scan().orElseThrow().function());
        assertEquals(15.1 * (1L << 30), s.scan().orElseThrow().repairedBytes(), 1 << 20);
    }

    @Test
    void zpoolListLinesInExactBytes() {
        ZpoolStatus.ListLine line =
                ZpoolStatus.ListLine.parse("tank\t1996488704\t294912\t1996193792\tONLINE\n");
        assertEquals("tank", line.name());
        assertEquals(1996488704L, line.size());
        assertEquals(294912L, line.allocated());
        assertEquals(1996193792L, line.free());
        assertEquals(Health.ONLINE, line.health());
        assertEquals(Health.DEGRADED, ZpoolStatus.ListLine.parse("t\t10\t1\t9\tDEGRADED").health());
    }

    @Test
    void whatIsNotZpoolOutputIsAClearError() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZpoolStatus.parse("cannot open 'tank': no such pool\n"));
        assertTrue(e.getMessage().contains("not the output of zpool status"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> ZpoolStatus.ListLine.parse("tank 1.86G 288K 1.86G ONLINE"));
        assertThrows(
                IllegalArgumentException.class,
                () -> ZpoolStatus.ListLine.parse("tank\t1.86G\t288K\t1.86G\tONLINE"));
    }

    private static String transcript(String name) throws IOException {
        try (InputStream in = ZpoolStatusTest.class.getResourceAsStream("/zpool/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
