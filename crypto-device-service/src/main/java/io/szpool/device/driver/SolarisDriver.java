package io.szpool.device.driver;

import io.szpool.crypto.XtsKey;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code solaris} driver (illumos too): {@code mkfile} and lofi's encryption, the original
 * recipe. A chunk file becomes {@code /dev/lofi/N} under {@code aes-256-cbc}; that is lofi's
 * format, not dm-crypt's, so a chunk made here stays with lofi (its key: {@link LofiKeys}).
 *
 * <p>{@code lofiadm} reads keys only from a file: a 0600 {@link SecretFile} that exists for the
 * duration of the one {@code lofiadm -a} call.
 */
public class SolarisDriver implements DeviceDriver {
    static final String CIPHER = "aes-256-cbc";

    private final CommandRunner commands;
    private final Path keyFolder;

    /** {@code keyFolder}: a folder only the service reads, for the moment a key file exists. */
    public SolarisDriver(CommandRunner commands, Path keyFolder) {
        this.commands = commands;
        this.keyFolder = keyFolder;
    }

    @Override
    public Driver kind() {
        return Driver.SOLARIS;
    }

    @Override
    public Cipher cipher() {
        return Cipher.AES_256_CBC;
    }

    @Override
    public void createFile(Path file, long sizeBytes, boolean sparse) throws IOException {
        // mkfile takes a plain number as bytes; -n records the size without allocating blocks.
        if (sparse) {
            commands.check("mkfile", "-n", Long.toString(sizeBytes), file.toString());
        } else {
            commands.check("mkfile", Long.toString(sizeBytes), file.toString());
        }
    }

    @Override
    public String attach(String chunkId, Path file, XtsKey key) throws IOException {
        Optional<String> existing = address(chunkId, file);
        if (existing.isPresent()) {
            return existing.get();
        }
        try (SecretFile keyFile = SecretFile.write(keyFolder, LofiKeys.derive(key))) {
            String device =
                    commands.check(attachCommand(keyFile.path(), file), null).stdout().strip();
            if (!device.startsWith("/dev/lofi/")) {
                throw new CommandFailedException(
                        "lofiadm -a " + file + " answered '" + device + "', not a lofi device", 0);
            }
            return device;
        }
    }

    static List<String> attachCommand(Path keyFile, Path file) {
        return List.of("lofiadm", "-c", CIPHER, "-k", keyFile.toString(), "-a", file.toString());
    }

    @Override
    public boolean detach(String chunkId, Path file) throws IOException {
        if (address(chunkId, file).isEmpty()) {
            return false;
        }
        commands.check("lofiadm", "-d", file.toString());
        return true;
    }

    @Override
    public Optional<String> address(String chunkId, Path file) throws IOException {
        Map<String, String> devices = parseListing(commands.check("lofiadm").stdout());
        String wanted = file.toAbsolutePath().toString();
        return devices.entrySet().stream()
                .filter(e -> e.getValue().equals(wanted))
                .map(Map.Entry::getKey)
                .findFirst();
    }

    /**
     * Parses {@code lofiadm} without arguments: a header {@code Block Device File Options}, then
     * one row per device, {@code /dev/lofi/N /path/file Options} ({@code -}, {@code Encrypted},
     * {@code Compressed(gzip)}, ...). Returns device to file; a file name may hold spaces.
     */
    static Map<String, String> parseListing(String output) {
        Map<String, String> devices = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            String[] cols = line.strip().split("\\s+");
            if (cols.length < 3 || !cols[0].startsWith("/dev/")) {
                continue;
            }
            String file = String.join(" ", List.of(cols).subList(1, cols.length - 1));
            devices.put(cols[0], file);
        }
        return devices;
    }
}
