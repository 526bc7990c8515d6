package io.szpool.device.driver;

import io.szpool.crypto.XtsKey;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The {@code linux} driver: the kernel's loop devices and dm-crypt. A chunk file becomes {@code
 * /dev/mapper/szpool-CHUNK_ID} in the same on-disk format as the embedded driver's (AES-256-XTS,
 * 4096-byte sectors, plain64 IV), so a chunk moves between the two drivers unchanged.
 *
 * <p>The key goes to {@code cryptsetup} on stdin with {@code --hash plain}: without it cryptsetup
 * hashes a key read from stdin (cryptsetup(8), plain mode) and the device would decrypt to noise.
 */
public class LinuxDriver implements DeviceDriver {
    private static final Logger LOG = Logger.getLogger(LinuxDriver.class);
    static final String MAPPING_PREFIX = "szpool-";

    private final CommandRunner commands;

    public LinuxDriver(CommandRunner commands) {
        this.commands = commands;
    }

    @Override
    public Driver kind() {
        return Driver.LINUX;
    }

    @Override
    public Cipher cipher() {
        return Cipher.AES_XTS_PLAIN64;
    }

    @Override
    public void createFile(Path file, long sizeBytes, boolean sparse) throws IOException {
        if (sparse) {
            commands.check("truncate", "--size", Long.toString(sizeBytes), file.toString());
        } else {
            // Allocated but unwritten extents: reads give zeros, dm-crypt decrypts them to noise,
            // as on a new disk; no pool reads what it never wrote.
            commands.check("fallocate", "--length", Long.toString(sizeBytes), file.toString());
        }
    }

    @Override
    public String attach(String chunkId, Path file, XtsKey key) throws IOException {
        String name = mappingName(chunkId);
        if (status(name).isPresent()) {
            return mapperPath(name);
        }
        List<String> loops = loopDevices(file);
        boolean madeLoop = loops.isEmpty();
        String loop =
                madeLoop
                        ? commands.check("losetup", "--find", "--show", file.toString())
                                .stdout()
                                .strip()
                        : loops.get(0);
        try {
            commands.check(openCommand(loop, name), key.bytes());
        } catch (IOException e) {
            if (madeLoop) {
                releaseQuietly(loop);
            }
            throw e;
        }
        return mapperPath(name);
    }

    /** The {@code cryptsetup open} of SPEC.md, key on stdin. */
    static List<String> openCommand(String loopDevice, String name) {
        return List.of(
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
                loopDevice,
                name);
    }

    @Override
    public boolean detach(String chunkId, Path file) throws IOException {
        String name = mappingName(chunkId);
        Optional<CryptStatus> status = status(name);
        boolean detached = false;
        if (status.isPresent()) {
            // close flushes the mapping; the loop device below it is released afterwards.
            commands.check("cryptsetup", "close", name);
            detached = true;
        }
        List<String> loops = new ArrayList<>(loopDevices(file));
        status.map(CryptStatus::device)
                .filter(d -> d.startsWith("/dev/loop") && !loops.contains(d))
                .ifPresent(loops::add);
        for (String loop : loops) {
            commands.check("losetup", "--detach", loop);
            detached = true;
        }
        return detached;
    }

    @Override
    public Optional<String> address(String chunkId, Path file) throws IOException {
        String name = mappingName(chunkId);
        return status(name).map(s -> mapperPath(name));
    }

    private Optional<CryptStatus> status(String name) throws IOException {
        CommandRunner.Result result = commands.run(List.of("cryptsetup", "status", name), null);
        Optional<CryptStatus> status = CryptStatus.parse(result.stdout());
        if (status.isEmpty() && !result.ok() && !result.stdout().contains("inactive")) {
            throw new CommandFailedException(
                    "cryptsetup status "
                            + name
                            + " exited with "
                            + result.exitCode()
                            + ": "
                            + result.stderr().strip(),
                    result.exitCode());
        }
        return status;
    }

    private List<String> loopDevices(Path file) throws IOException {
        return List.copyOf(
                parseLosetup(commands.check("losetup", "--associated", file.toString()).stdout())
                        .keySet());
    }

    private void releaseQuietly(String loop) {
        try {
            commands.check("losetup", "--detach", loop);
        } catch (IOException e) {
            LOG.errorf(
                    "cannot release loop device %s after a failed open: %s", loop, e.getMessage());
        }
    }

    static String mappingName(String chunkId) {
        return MAPPING_PREFIX + chunkId;
    }

    static String mapperPath(String name) {
        return "/dev/mapper/" + name;
    }

    private static final Pattern LOSETUP_LINE =
            Pattern.compile("^(/dev/loop\\d+): \\[[^\\]]*\\]:\\d* \\((.*?)\\)(, .*)?$");

    /**
     * Parses {@code losetup -a} and {@code losetup -j FILE} (the same format, util-linux's "old
     * output format"): {@code /dev/loop0: [2049]:1837 (/path/file)}, possibly followed by {@code ,
     * offset N}. Returns loop device to backing file, in output order; a deleted backing file shows
     * as {@code (/path/file (deleted))} and keeps that suffix.
     */
    static Map<String, String> parseLosetup(String output) {
        Map<String, String> loops = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            Matcher m = LOSETUP_LINE.matcher(line.strip());
            if (m.matches()) {
                loops.put(m.group(1), m.group(2));
            }
        }
        return loops;
    }

    /** What {@code cryptsetup status NAME} reports of an active mapping. */
    record CryptStatus(
            String mapping,
            String type,
            String cipher,
            int keyBits,
            String device,
            String loopFile,
            int sectorSize,
            boolean inUse) {
        private static final Pattern HEAD =
                Pattern.compile("^(/dev/mapper/\\S+) is active( and is in use)?\\.$");
        private static final Pattern FIELD = Pattern.compile("^\\s+([a-z ]+):\\s+(.*)$");

        /** Empty for an inactive mapping (exit status 4, "is inactive."). */
        static Optional<CryptStatus> parse(String output) {
            String[] lines = output.split("\n");
            Matcher head = HEAD.matcher(lines.length == 0 ? "" : lines[0].strip());
            if (!head.matches()) {
                return Optional.empty();
            }
            Map<String, String> fields = new LinkedHashMap<>();
            for (String line : lines) {
                Matcher m = FIELD.matcher(line);
                if (m.matches()) {
                    fields.put(m.group(1).strip(), m.group(2).strip());
                }
            }
            return Optional.of(
                    new CryptStatus(
                            head.group(1),
                            fields.get("type"),
                            fields.get("cipher"),
                            leadingInt(fields.get("keysize")),
                            fields.get("device"),
                            fields.get("loop"),
                            leadingInt(fields.get("sector size")),
                            head.group(2) != null));
        }

        private static int leadingInt(String value) {
            if (value == null) {
                return 0;
            }
            Matcher m = Pattern.compile("^(\\d+)").matcher(value);
            return m.find() ? Integer.parseInt(m.group(1)) : 0;
        }
    }
}
