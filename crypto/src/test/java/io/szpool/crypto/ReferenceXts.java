package io.szpool.crypto;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * An independent AES-256-XTS in another process, to check our bytes against: {@code openssl enc}
 * where it accepts XTS, else OpenSSL's EVP through Python's {@code cryptography} package.
 *
 * <p>OpenSSL 3.0's {@code enc} refuses XTS ("enc XTS ciphers not supported"), so on Debian 12 the
 * Python route is the one that runs; both end in the same libcrypto code. Python gets every unit of
 * a request in one process, each with its own tweak, so a test starts one interpreter, not one per
 * unit.
 */
final class ReferenceXts {

    private static final String PYTHON_XTS =
            "import sys\n"
                    + "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
                    + "key, direction, unit = bytes.fromhex(sys.argv[1]), sys.argv[2],"
                    + " int(sys.argv[3])\n"
                    + "tweaks = [bytes.fromhex(t) for t in sys.argv[4].split(',')]\n"
                    + "data = sys.stdin.buffer.read()\n"
                    + "out = bytearray()\n"
                    + "for i, tweak in enumerate(tweaks):\n"
                    + "    c = Cipher(algorithms.AES(key), modes.XTS(tweak))\n"
                    + "    op = c.encryptor() if direction == 'enc' else c.decryptor()\n"
                    + "    out += op.update(data[i * unit:(i + 1) * unit]) + op.finalize()\n"
                    + "sys.stdout.buffer.write(out)\n";

    private static final HexFormat HEX = HexFormat.of();

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
        for (ReferenceXts candidate :
                List.of(
                        new ReferenceXts("openssl enc -aes-256-xts", true),
                        new ReferenceXts(
                                "python3 cryptography (OpenSSL EVP aes-256-xts)", false))) {
            try {
                if (candidate.encryptUnits(key, 16, 0, new byte[16]).length == 16) {
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

    /**
     * dm-crypt plain64: the IV of unit {@code unit} of {@code unitSize} bytes, as a 16-byte tweak.
     */
    static byte[] plain64(long unit, int unitSize) {
        return ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(unit * (unitSize / 512))
                .array();
    }

    String name() {
        return name;
    }

    /** Encrypts consecutive units, the first being unit {@code firstUnit}, with plain64 tweaks. */
    byte[] encryptUnits(byte[] key, int unitSize, long firstUnit, byte[] data) throws IOException {
        return run(key, unitSize, consecutive(firstUnit, data.length / unitSize), data, true);
    }

    byte[] decryptUnits(byte[] key, int unitSize, long firstUnit, byte[] data) throws IOException {
        return run(key, unitSize, consecutive(firstUnit, data.length / unitSize), data, false);
    }

    /**
     * Encrypts units scattered over the chunk: the i-th unit of {@code data} is unit {@code
     * units[i]}.
     */
    byte[] encryptUnits(byte[] key, int unitSize, long[] units, byte[] data) throws IOException {
        return run(key, unitSize, units, data, true);
    }

    byte[] decryptUnits(byte[] key, int unitSize, long[] units, byte[] data) throws IOException {
        return run(key, unitSize, units, data, false);
    }

    private static long[] consecutive(long first, int count) {
        long[] units = new long[count];
        for (int i = 0; i < count; i++) {
            units[i] = first + i;
        }
        return units;
    }

    private byte[] run(byte[] key, int unitSize, long[] unitNumbers, byte[] data, boolean encrypt)
            throws IOException {
        int units = unitNumbers.length;
        if (data.length != units * unitSize) {
            throw new IllegalArgumentException("data does not hold " + units + " units");
        }
        if (openssl) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int u = 0; u < units; u++) {
                out.writeBytes(
                        exec(
                                List.of(
                                        "openssl",
                                        "enc",
                                        encrypt ? "-e" : "-d",
                                        "-aes-256-xts",
                                        "-K",
                                        HEX.formatHex(key),
                                        "-iv",
                                        HEX.formatHex(plain64(unitNumbers[u], unitSize)),
                                        "-nopad"),
                                Arrays.copyOfRange(data, u * unitSize, (u + 1) * unitSize)));
            }
            return out.toByteArray();
        }
        List<String> tweaks = new ArrayList<>();
        for (int u = 0; u < units; u++) {
            tweaks.add(HEX.formatHex(plain64(unitNumbers[u], unitSize)));
        }
        return exec(
                List.of(
                        "python3",
                        "-c",
                        PYTHON_XTS,
                        HEX.formatHex(key),
                        encrypt ? "enc" : "dec",
                        Integer.toString(unitSize),
                        String.join(",", tweaks)),
                data);
    }

    private byte[] exec(List<String> command, byte[] input) throws IOException {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new IOException(command.get(0) + " is not installed", e);
        }
        // Own threads for the output pipes: the common pool has one worker on a 2-core machine, and
        // a process blocked on a full stdout pipe would never read the rest of its stdin.
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Thread outReader = drain(process.getInputStream(), stdout);
        Thread errReader = drain(process.getErrorStream(), stderr);
        try (OutputStream in = process.getOutputStream()) {
            in.write(input);
        } catch (IOException e) {
            // The process died early; its exit status and stderr tell why.
        }
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(name + " timed out");
            }
            outReader.join();
            errReader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException(
                    name + " failed: " + stderr.toString(StandardCharsets.UTF_8).strip());
        }
        return stdout.toByteArray();
    }

    private static Thread drain(InputStream stream, ByteArrayOutputStream sink) {
        Thread thread =
                new Thread(
                        () -> {
                            try (stream) {
                                stream.transferTo(sink);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        },
                        "reference-xts-pipe");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
