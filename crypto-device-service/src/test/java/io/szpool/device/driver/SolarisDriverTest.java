package io.szpool.device.driver;

import static io.szpool.device.driver.ScriptedRunner.transcript;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.szpool.crypto.XtsKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The solaris driver's command lines, its key file and its parsing of lofiadm, without lofi. */
class SolarisDriverTest {
    static final Path FILE = Path.of("/export/szpool/chunks/8ecee476e5f089753bf0e3e6653e2966");
    static final String HEADER =
            "Block Device             File                           Options\n";

    @TempDir Path keys;

    @Test
    void attachHandsLofiTheDerivedKeyInA0600FileThatIsGoneAfterwards() throws Exception {
        AtomicReference<byte[]> seen = new AtomicReference<>();
        AtomicReference<Path> keyFile = new AtomicReference<>();
        ScriptedRunner runner = new ScriptedRunner().expect(List.of("lofiadm"), 0, HEADER, "");
        // The key file's name is random: this step checks the command after the fact.
        runner.expect(
                null,
                new CommandRunner.Result(0, transcript("lofiadm-a.txt"), ""),
                command -> {
                    Path file = Path.of(command.get(4));
                    keyFile.set(file);
                    try {
                        assertEquals(
                                "rw-------",
                                PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
                        seen.set(Files.readAllBytes(file));
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
        byte[] raw = LinuxDriverTest.key();
        String device;
        try (XtsKey key = XtsKey.of(raw)) {
            device = new SolarisDriver(runner, keys).attach("c1", FILE, key);
            assertArrayEquals(LofiKeys.derive(key), seen.get());
        }
        assertEquals("/dev/lofi/2", device);
        List<String> command = runner.calls.get(1).command();
        assertEquals(
                List.of(
                        "lofiadm",
                        "-c",
                        "aes-256-cbc",
                        "-k",
                        keyFile.get().toString(),
                        "-a",
                        FILE.toString()),
                command);
        assertEquals(32, seen.get().length);
        assertFalse(Files.exists(keyFile.get()), "the key file is removed right after lofiadm");
        runner.assertDone();
    }

    @Test
    void anAttachedChunkIsFoundInTheListingAndDetachedByFile() throws Exception {
        ScriptedRunner runner =
                new ScriptedRunner()
                        .expect(List.of("lofiadm"), 0, transcript("lofiadm-list.txt"), "")
                        .expect(List.of("lofiadm"), 0, transcript("lofiadm-list.txt"), "")
                        .expect(List.of("lofiadm", "-d", FILE.toString()), 0, "", "")
                        .expect(List.of("lofiadm"), 0, HEADER, "");
        SolarisDriver driver = new SolarisDriver(runner, keys);
        assertEquals(Optional.of("/dev/lofi/2"), driver.address("c1", FILE));
        assertTrue(driver.detach("c1", FILE));
        assertFalse(driver.detach("c1", FILE), "detaching twice changes nothing");
        runner.assertDone();
    }

    @Test
    void chunkFilesComeFromMkfile() throws Exception {
        ScriptedRunner runner =
                new ScriptedRunner()
                        .expect(List.of("mkfile", "-n", "1073741824", "/c/a"), 0, "", "")
                        .expect(List.of("mkfile", "67108864", "/c/b"), 0, "", "");
        SolarisDriver driver = new SolarisDriver(runner, keys);
        driver.createFile(Path.of("/c/a"), 1L << 30, true);
        driver.createFile(Path.of("/c/b"), 64L << 20, false);
        runner.assertDone();
    }

    @Test
    void parsesTheLofiadmListing() {
        Map<String, String> devices = SolarisDriver.parseListing(transcript("lofiadm-list.txt"));
        assertEquals(3, devices.size());
        assertEquals("/usr.lgz", devices.get("/dev/lofi/1"));
        assertEquals(FILE.toString(), devices.get("/dev/lofi/2"));
        assertEquals("/export/home/my disk.img", devices.get("/dev/lofi/3"));
        assertTrue(SolarisDriver.parseListing(HEADER).isEmpty());
    }

    /** The lofi key is HKDF-SHA256 of the chunk key: OpenSSL computes the same from the dump. */
    @Test
    void lofiKeyIsWhatOpensslHkdfGivesFromTheDumpedChunkKey() throws Exception {
        byte[] raw = LinuxDriverTest.key();
        byte[] ours;
        try (XtsKey key = XtsKey.of(raw)) {
            ours = LofiKeys.derive(key);
        }
        assertEquals(32, ours.length);
        assertFalse(
                HexFormat.of().formatHex(raw).contains(HexFormat.of().formatHex(ours)),
                "not a slice of the XTS key");
        Process p;
        try {
            p =
                    new ProcessBuilder(
                                    "openssl",
                                    "kdf",
                                    "-keylen",
                                    "32",
                                    "-kdfopt",
                                    "digest:SHA256",
                                    "-kdfopt",
                                    "hexkey:" + HexFormat.of().formatHex(raw),
                                    "-kdfopt",
                                    "info:szpool lofi aes-256-cbc key v1",
                                    "HKDF")
                            .redirectErrorStream(true)
                            .start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "openssl is not installed");
            return;
        }
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assumeTrue(p.waitFor() == 0, "this openssl has no kdf command (OpenSSL 3 has): " + out);
        assertEquals(HexFormat.of().formatHex(ours), out.replace(":", "").toLowerCase());
    }
}
