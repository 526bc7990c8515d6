package io.szpool.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * AES-256-XTS from outside szpool, for recovery checks: {@code openssl enc} where it takes XTS,
 * else OpenSSL's EVP through Python's {@code cryptography} (OpenSSL 3.0's enc refuses XTS).
 */
public final class StandardXts {
    public static final String WHY_NONE =
            "no standard AES-XTS here: openssl enc refuses XTS and python3 lacks cryptography";

    private StandardXts() {}

    /** Decrypts one 4096-byte unit with dm-crypt's plain64 IV, or null when no tool can. */
    public static byte[] decryptUnit(String keyHex, long unit, byte[] cipher) throws Exception {
        String iv =
                HexFormat.of()
                        .formatHex(
                                ByteBuffer.allocate(16)
                                        .order(ByteOrder.LITTLE_ENDIAN)
                                        .putLong(unit * 8)
                                        .array());
        byte[] out =
                exec(
                        cipher,
                        "openssl",
                        "enc",
                        "-d",
                        "-aes-256-xts",
                        "-K",
                        keyHex,
                        "-iv",
                        iv,
                        "-nopad");
        if (out != null) {
            return out;
        }
        return exec(
                cipher,
                "python3",
                "-c",
                "import sys\n"
                        + "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
                        + "d = Cipher(algorithms.AES(bytes.fromhex(sys.argv[1])),"
                        + " modes.XTS(bytes.fromhex(sys.argv[2]))).decryptor()\n"
                        + "sys.stdout.buffer.write(d.update(sys.stdin.buffer.read()) + d.finalize())\n",
                keyHex,
                iv);
    }

    private static byte[] exec(byte[] input, String... command) throws Exception {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().write(input);
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        return p.waitFor() == 0 ? out : null;
    }
}
