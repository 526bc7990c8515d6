package io.szpool.crypto;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * An independent AES-256-XTS in another process, to check our bytes against: {@code openssl enc}
 * where it accepts XTS, else OpenSSL's EVP through Python's {@code cryptography} package.
 *
 * <p>OpenSSL 3.0's {@code enc} refuses XTS ("enc XTS ciphers not supported"), so on Debian 12 the
 * Python route is the one that runs; both end in the same libcrypto code.
 */
final class ReferenceXts {

    private static final String PYTHON_XTS =
            "import sys\n"
                    + "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
                    + "key, tweak, direction = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]),"
                    + " sys.argv[3]\n"
                    + "c = Cipher(algorithms.AES(key), modes.XTS(tweak))\n"
                    + "op = c.encryptor() if direction == 'enc' else c.decryptor()\n"
                    + "data = sys.stdin.buffer.read()\n"
                    + "sys.stdout.buffer.write(op.update(data) + op.finalize())\n";

    private final String name;
    private final boolean openssl;

    private ReferenceXts(String name, boolean openssl) {
        this.name = name;
        this.openssl = openssl;
    }

    /** The first reference that works here, or empty with the reason in {@link #whyNone}. */
    static Optional<ReferenceXts> find() {
        byte[] key = new byte[64];
        key[0] = 1;
        byte[] probe = new byte[16];
        for (ReferenceXts candidate :
                List.of(
                        new ReferenceXts("openssl enc -aes-256-xts", true),
                        new ReferenceXts(
                                "python3 cryptography (OpenSSL EVP aes-256-xts)", false))) {
            try {
                if (candidate.encrypt(key, new byte[16], probe).length == 16) {
                    return Optional.of(candidate);
                }
            } catch (IOException e) {
                // Try the next one.
            }
        }
        return Optional.empty();
    }

    static String whyNone() {
        return "no reference AES-XTS here: `openssl enc -aes-256-xts` is refused by OpenSSL 3.0 and"
                + " python3 with the `cryptography` package is missing";
    }

    String name() {
        return name;
    }

    byte[] encrypt(byte[] key, byte[] tweak, byte[] data) throws IOException {
        return run(key, tweak, data, true);
    }

    byte[] decrypt(byte[] key, byte[] tweak, byte[] data) throws IOException {
        return run(key, tweak, data, false);
    }

    private byte[] run(byte[] key, byte[] tweak, byte[] data, boolean encrypt) throws IOException {
        HexFormat hex = HexFormat.of();
        List<String> command =
                openssl
                        ? List.of(
                                "openssl",
                                "enc",
                                encrypt ? "-e" : "-d",
                                "-aes-256-xts",
                                "-K",
                                hex.formatHex(key),
                                "-iv",
                                hex.formatHex(tweak),
                                "-nopad")
                        : List.of(
                                "python3",
                                "-c",
                                PYTHON_XTS,
                                hex.formatHex(key),
                                hex.formatHex(tweak),
                                encrypt ? "enc" : "dec");
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new IOException(command.get(0) + " is not installed", e);
        }
        CompletableFuture<byte[]> stderr =
                CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
        CompletableFuture<byte[]> stdout =
                CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
        try (OutputStream in = process.getOutputStream()) {
            in.write(data);
        }
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(name + " timed out");
            }
            if (process.exitValue() != 0) {
                throw new IOException(
                        name
                                + " failed: "
                                + new String(stderr.get(), StandardCharsets.UTF_8).strip());
            }
            return stdout.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        }
    }

    private static byte[] readAll(InputStream stream) {
        try (stream) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            stream.transferTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
