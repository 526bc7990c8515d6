package io.szpool.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PassphraseFilesTest {
    private static final String SECRET = "correct horse battery stäple";

    @TempDir Path dir;

    private Path file(String name, byte[] content, String mode) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void theConfiguredFileGivesItsFirstLineWhateverTheLineEnd() throws Exception {
        for (String end : new String[] {"", "\n", "\r\n", "\nsecond line\n"}) {
            Path f = file("p", (SECRET + end).getBytes(StandardCharsets.UTF_8), "rw-------");
            assertArrayEquals(
                    SECRET.toCharArray(), PassphraseFiles.configured(Optional.of(f), "x.file"));
        }
    }

    @Test
    void aBadConfiguredFileIsA503ThatSaysWhatToFixAndNeverShowsTheSecret() throws Exception {
        Path empty =
                file("empty", "\nnot the first line".getBytes(StandardCharsets.UTF_8), "rw-------");
        ProblemException e =
                assertThrows(
                        ProblemException.class,
                        () -> PassphraseFiles.configured(Optional.of(empty), "x.file"));
        assertEquals(503, e.status());
        assertTrue(e.getMessage().contains("is empty"), e.getMessage());

        byte[] latin1 = SECRET.getBytes(StandardCharsets.ISO_8859_1);
        Path notUtf8 = file("latin1", latin1, "rw-------");
        e =
                assertThrows(
                        ProblemException.class,
                        () -> PassphraseFiles.configured(Optional.of(notUtf8), "x.file"));
        assertEquals(503, e.status());
        assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
        assertFalse(e.getMessage().contains("correct horse"), e.getMessage());

        Path missing = dir.resolve("missing");
        e =
                assertThrows(
                        ProblemException.class,
                        () -> PassphraseFiles.configured(Optional.of(missing), "x.file"));
        assertEquals(503, e.status());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void withoutAFileItIsTheEnvironmentOrA503NamingTheSetting() {
        String env = System.getenv(PassphraseFiles.ENV);
        if (env != null && !env.isEmpty()) {
            assertArrayEquals(
                    env.toCharArray(), PassphraseFiles.configured(Optional.empty(), "x.file"));
            return;
        }
        ProblemException e =
                assertThrows(
                        ProblemException.class,
                        () -> PassphraseFiles.configured(Optional.empty(), "szpool.x.file"));
        assertEquals(503, e.status());
        assertEquals(
                "no passphrase: set szpool.x.file or the environment variable "
                        + PassphraseFiles.ENV,
                e.getMessage());
    }

    @Test
    void anOperatorFileMustBeAnAbsolutePrivateRegularFile() throws Exception {
        Path good = file("good", (SECRET + "\n").getBytes(StandardCharsets.UTF_8), "rw-------");
        assertArrayEquals(
                SECRET.toCharArray(), PassphraseFiles.operatorFile(good.toString(), "newFile"));

        Path shared = file("shared", SECRET.getBytes(StandardCharsets.UTF_8), "rw-r--r--");
        Path link = Files.createSymbolicLink(dir.resolve("link"), good);
        String[][] bad = {
            {null, "newFile must name a file on this host"},
            {" ", "newFile must name a file on this host"},
            {"relative/p", "newFile must be an absolute path on this host, was 'relative/p'"},
            {dir.resolve("nope").toString(), "newFile " + dir.resolve("nope") + " does not exist"},
            {dir.toString(), "newFile " + dir + " is not a regular file"},
            {link.toString(), "newFile " + link + " is not a regular file"},
            {
                shared.toString(),
                "newFile " + shared + " may be read by others: chmod 600 it and try again"
            },
        };
        for (String[] c : bad) {
            ProblemException e =
                    assertThrows(
                            ProblemException.class,
                            () -> PassphraseFiles.operatorFile(c[0], "newFile"),
                            String.valueOf(c[0]));
            assertEquals(400, e.status(), c[0]);
            assertEquals(c[1], e.getMessage());
        }
    }
}
