package io.szpool.device.driver;

import static io.szpool.device.driver.ScriptedRunner.transcript;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.crypto.XtsKey;
import io.szpool.device.driver.LinuxDriver.CryptStatus;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The linux driver's command lines and its parsing of losetup and cryptsetup output, without root.
 */
class LinuxDriverTest {
    static final String CHUNK = "8ecee476e5f089753bf0e3e6653e2966";
    static final Path FILE = Path.of("/var/lib/szpool/crypto-device/chunks/" + CHUNK);
    static final String NAME = "szpool-" + CHUNK;

    @Test
    void attachSetsUpALoopDeviceAndOpensPlainDmCryptWithTheKeyOnStdin() throws Exception {
        ScriptedRunner runner =
                new ScriptedRunner()
                        .expect(
                                List.of("cryptsetup", "status", NAME),
                                4,
                                transcript("cryptsetup-status-inactive.txt"),
                                "")
                        .expect(List.of("losetup", "--associated", FILE.toString()), 0, "", "")
                        .expect(
                                List.of("losetup", "--find", "--show", FILE.toString()),
                                0,
                                transcript("losetup-find-show.txt"),
                                "")
                        .expect(
                                List.of(
                                        "cryptsetup",
                                        "open",
                                        "--type",
                                        "plain",
                                        "--cipher",
                                        "aes-xts-plain64",
                                        "--key-size",
                                        "512",
                                        "--sector-size",
                                        "4096",
                                        "--hash",
                                        "plain",
                                        "--key-file",
                                        "-",
                                        "/dev/loop0",
                                        NAME),
                                0,
                                "",
                                "");
        byte[] raw = key();
        try (XtsKey key = XtsKey.of(raw)) {
            assertEquals("/dev/mapper/" + NAME, new LinuxDriver(runner).attach(CHUNK, FILE, key));
        }
        runner.assertDone();
        ScriptedRunner.Call open = runner.calls.get(3);
        assertArrayEquals(raw, open.stdin(), "the 64 raw key bytes go on stdin");
        for (ScriptedRunner.Call call : runner.calls) {
            String line = String.join(" ", call.command());
            assertFalse(line.contains(hex(raw).substring(0, 16)), "no key on a command line");
        }
    }

    @Test
    void attachingAnOpenMappingRunsNothingButTheStatus() throws Exception {
        ScriptedRunner runner =
                new ScriptedRunner()
                        .expect(
                                List.of("cryptsetup", "status", NAME),
                                0,
                                transcript("cryptsetup-status-active.txt"),
                                "");
        try (XtsKey key = XtsKey.of(key())) {
            assertEquals("/dev/mapper/" + NAME, new LinuxDriver(runner).attach(CHUNK, FILE, key));
        }
        runner.assertDone();
    }

    @Test
    void aFailedOpenReleasesTheLoopDeviceItMadeAndSaysWhy() throws Exception {
        ScriptedRunner runner =
                new ScriptedRunner()
                        .expect(
                                List.of("cryptsetup", "status", NAME),
                                4,
                                transcript("cryptsetup-status-inactive.txt"),
                                "")
                        .expect(List.of("losetup", "--associated", FILE.toString()), 0, "", "")
                        .expect(
                                List.of("losetup", "--find", "--show", FILE.toString()),
                                0,
                                "/dev/loop3\n",
                                "")
                        .expect(
                                LinuxDriver.openCommand("/dev/loop3", NAME),
                                5,
                                "",
                                "Device " + NAME + " already exists.\n")
                        .expect(List.of("losetup", "--detach", "/dev/loop3"), 0, "", "");
        CommandFailedException e;
        try (XtsKey key = XtsKey.of(key())) {
            e =
                    assertThrows(
                            CommandFailedException.class,
                            () -> new LinuxDriver(runner).attach(CHUNK, FILE, key));
        }
        assertEquals(5, e.exitCode());
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        assertTrue(e.getMessage().startsWith("cryptsetup open --type plain"), e.getMessage());
        runner.assertDone();
    }

    @Test
    void detachClosesTheMappingThenReleasesItsLoopDevice() throws Exception {
        ScriptedRunner runner =
                new ScriptedRunner()
                        .expect(
                                List.of("cryptsetup", "status", NAME),
                                0,
                                transcript("cryptsetup-status-active.txt"),
                                "")
                        .expect(List.of("cryptsetup", "close", NAME), 0, "", "")
                        .expect(
                                List.of("losetup", "--associated", FILE.toString()),
                                0,
                                transcript("losetup-j.txt"),
                                "")
                        .expect(List.of("losetup", "--detach", "/dev/loop0"), 0, "", "");
        assertTrue(new LinuxDriver(runner).detach(CHUNK, FILE));
        runner.assertDone();
    }

    @Test
    void detachingADetachedChunkChangesNothing() throws Exception {
        ScriptedRunner runner =
                new ScriptedRunner()
                        .expect(
                                List.of("cryptsetup", "status", NAME),
                                4,
                                transcript("cryptsetup-status-inactive.txt"),
                                "")
                        .expect(List.of("losetup", "--associated", FILE.toString()), 0, "", "");
        assertFalse(new LinuxDriver(runner).detach(CHUNK, FILE));
        runner.assertDone();
    }

    @Test
    void chunkFilesComeFromTruncateOrFallocate() throws Exception {
        ScriptedRunner runner =
                new ScriptedRunner()
                        .expect(List.of("truncate", "--size", "1073741824", "/c/a"), 0, "", "")
                        .expect(List.of("fallocate", "--length", "67108864", "/c/b"), 0, "", "");
        LinuxDriver driver = new LinuxDriver(runner);
        driver.createFile(Path.of("/c/a"), 1L << 30, true);
        driver.createFile(Path.of("/c/b"), 64L << 20, false);
        runner.assertDone();
    }

    @Test
    void parsesLosetupListings() {
        Map<String, String> all = LinuxDriver.parseLosetup(transcript("losetup-a.txt"));
        assertEquals(4, all.size());
        assertEquals(FILE.toString(), all.get("/dev/loop0"));
        assertEquals("/var/lib/snapd/snaps/core20_2264.snap", all.get("/dev/loop7"));
        assertEquals("/srv/images/disk.img", all.get("/dev/loop8"), "offset suffix dropped");
        assertEquals(
                Map.of("/dev/loop0", FILE.toString()),
                LinuxDriver.parseLosetup(transcript("losetup-j.txt")));
        assertTrue(LinuxDriver.parseLosetup("").isEmpty());
    }

    @Test
    void parsesCryptsetupStatus() {
        CryptStatus s = CryptStatus.parse(transcript("cryptsetup-status-active.txt")).orElseThrow();
        assertEquals("/dev/mapper/" + NAME, s.mapping());
        assertEquals("PLAIN", s.type());
        assertEquals("aes-xts-plain64", s.cipher());
        assertEquals(512, s.keyBits());
        assertEquals("/dev/loop0", s.device());
        assertEquals(FILE.toString(), s.loopFile());
        assertEquals(4096, s.sectorSize());
        assertTrue(s.inUse());
        assertTrue(CryptStatus.parse(transcript("cryptsetup-status-inactive.txt")).isEmpty());
        assertTrue(CryptStatus.parse("").isEmpty());
        assertNull(
                CryptStatus.parse("/dev/mapper/x is active.\n").orElseThrow().device(),
                "a mapping with no fields still parses");
    }

    @Test
    void aMissingCryptsetupIsAClearError() {
        LinuxDriver driver =
                new LinuxDriver(
                        new ScriptedRunner()
                                .expect(
                                        List.of("cryptsetup", "status", NAME),
                                        127,
                                        "",
                                        "cryptsetup: command not found"));
        CommandFailedException e =
                assertThrows(CommandFailedException.class, () -> driver.address(CHUNK, FILE));
        assertTrue(e.getMessage().contains("command not found"), e.getMessage());
    }

    static byte[] key() {
        byte[] raw = new byte[64];
        new Random(1).nextBytes(raw);
        return raw;
    }

    static String hex(byte[] raw) {
        return java.util.HexFormat.of().formatHex(raw);
    }
}
