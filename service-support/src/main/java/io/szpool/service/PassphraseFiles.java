package io.szpool.service;

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
import java.util.Optional;
import java.util.Set;

/**
 * Reads the operator's passphrase for the services that open key slots. Every method returns a
 * fresh char array the caller must wipe ({@code Arrays.fill}) when done; the bytes read are wiped
 * here, and no String copy is made, so the passphrase is never kept, logged or returned.
 */
public final class PassphraseFiles {
    /** The environment variable that holds the passphrase when no file is configured. */
    public static final String ENV = "SZPOOL_PASSPHRASE";

    private PassphraseFiles() {}

    /**
     * The service's configured passphrase: the first line of {@code file} when it is set, else
     * {@value #ENV}. Missing or unreadable, it is a 503: the service cannot open keys until the
     * operator fixes its configuration ({@code fileProperty} names the setting to fix).
     */
    public static char[] configured(Optional<Path> file, String fileProperty) {
        if (file.isPresent()) {
            try {
                return firstLine(file.get());
            } catch (IOException e) {
                throw unavailable(
                        "cannot read the passphrase file " + file.get() + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw unavailable(e.getMessage());
            }
        }
        String env = System.getenv(ENV);
        if (env == null || env.isEmpty()) {
            throw unavailable(
                    "no passphrase: set " + fileProperty + " or the environment variable " + ENV);
        }
        return env.toCharArray();
    }

    /**
     * A passphrase from a file the operator named in a request ({@code what} says which one in the
     * errors): an absolute path on this host, a regular file that only its owner may read (so it
     * did not sit readable on a shared host), its first line the passphrase. Anything else is a
     * 400.
     */
    public static char[] operatorFile(String path, String what) {
        if (path == null || path.isBlank()) {
            throw ProblemException.badRequest(what + " must name a file on this host");
        }
        Path file = Path.of(path);
        if (!file.isAbsolute()) {
            throw ProblemException.badRequest(
                    what + " must be an absolute path on this host, was '" + path + "'");
        }
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                throw ProblemException.badRequest(what + " " + file + " does not exist");
            }
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

    /** The first line, decoded into a char array without a String copy. */
    private static char[] firstLine(Path file) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        CharBuffer chars = null;
        try {
            chars =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
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
