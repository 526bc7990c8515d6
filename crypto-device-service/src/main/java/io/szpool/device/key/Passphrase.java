package io.szpool.device.key;

import io.szpool.device.config.DeviceConfig;
import io.szpool.service.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Set;

/**
 * The operator's passphrase, from the configured file or {@code SZPOOL_PASSPHRASE}, or (for a
 * passphrase change) from a file the operator names. It is read when a key slot must be opened or
 * sealed and never kept, logged or returned.
 */
@ApplicationScoped
public class Passphrase {
    static final String ENV = "SZPOOL_PASSPHRASE";
    private final DeviceConfig config;

    public Passphrase(DeviceConfig config) {
        this.config = config;
    }

    /** The configured passphrase: a fresh copy the caller must wipe (Arrays.fill) when done. */
    public char[] read() {
        if (config.passphraseFile().isPresent()) {
            return readConfiguredFile(config.passphraseFile().get());
        }
        String env = System.getenv(ENV);
        if (env == null || env.isEmpty()) {
            throw unavailable(
                    "no passphrase: set szpool.device.passphrase-file or the environment variable "
                            + ENV);
        }
        return env.toCharArray();
    }

    private static char[] readConfiguredFile(Path file) {
        try {
            return firstLine(file);
        } catch (IOException e) {
            throw unavailable("cannot read the passphrase file " + file + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw unavailable(e.getMessage());
        }
    }

    /**
     * A passphrase from a file the operator named in a request: an absolute path on this host, a
     * regular file that only its owner may read (so it did not sit readable on a shared host), its
     * first line the passphrase.
     */
    public char[] readOperatorFile(String path, String what) {
        if (path == null || path.isBlank()) {
            throw ProblemException.badRequest(what + " must name a file on this host");
        }
        Path file = Path.of(path);
        if (!file.isAbsolute()) {
            throw ProblemException.badRequest(
                    what + " must be an absolute path on this host, was '" + path + "'");
        }
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw ProblemException.badRequest(what + " " + file + " is not a regular file");
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.contains(PosixFilePermission.GROUP_READ)
                    || mode.contains(PosixFilePermission.OTHERS_READ)) {
                throw ProblemException.badRequest(
                        what + " " + file + " may be read by others: chmod 600 it and try again");
            }
            return firstLine(file);
        } catch (NoSuchFileException e) {
            throw ProblemException.badRequest(what + " " + file + " does not exist");
        } catch (IOException e) {
            throw ProblemException.badRequest("cannot read " + what + " " + file + ": " + e);
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage());
        }
    }

    /**
     * The first line, decoded into a char array without a String copy, so the caller can wipe it.
     */
    private static char[] firstLine(Path file) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        CharBuffer chars = null;
        try {
            chars =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(raw));
            int end = 0;
            while (end < chars.limit() && chars.get(end) != '\n' && chars.get(end) != '\r') {
                end++;
            }
            if (end == 0) {
                throw new IllegalArgumentException("the passphrase file " + file + " is empty");
            }
            char[] line = new char[end];
            chars.get(line);
            return line;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the passphrase file " + file + " is not UTF-8");
        } finally {
            Arrays.fill(raw, (byte) 0);
            if (chars != null && chars.hasArray()) {
                Arrays.fill(chars.array(), '\0');
            }
        }
    }

    private static ProblemException unavailable(String detail) {
        return new ProblemException(503, "Service Unavailable", detail);
    }
}
