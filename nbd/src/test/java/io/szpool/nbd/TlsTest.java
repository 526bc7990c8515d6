package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NBD_OPT_STARTTLS between our client and server, with a throwaway certificate from keytool. */
class TlsTest {
    private static final char[] PASSWORD = "changeit".toCharArray();

    @TempDir static Path dir;
    private static SSLContext serverContext;
    private static SSLContext clientContext;

    @BeforeAll
    static void makeCertificate() throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Path store = dir.resolve("server.p12");
        Tools.Result result =
                Tools.run(
                        Duration.ofMinutes(1),
                        List.of(
                                keytool.toString(),
                                "-genkeypair",
                                "-alias",
                                "nbd",
                                "-keyalg",
                                "EC",
                                "-groupname",
                                "secp256r1",
                                "-dname",
                                "CN=localhost",
                                "-ext",
                                "SAN=ip:127.0.0.1,dns:localhost",
                                "-validity",
                                "2",
                                "-storetype",
                                "PKCS12",
                                "-keystore",
                                store.toString(),
                                "-storepass",
                                "changeit",
                                "-keypass",
                                "changeit"));
        assertEquals(0, result.exitCode(), result.output());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(keys, PASSWORD);
        serverContext = SSLContext.getInstance("TLS");
        serverContext.init(kmf.getKeyManagers(), null, null);

        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("nbd", keys.getCertificate("nbd"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, tmf.getTrustManagers(), null);
    }

    @Test
    void dataTravelsOverTlsWhenTheListenerRequiresIt() throws Exception {
        try (NbdServer server = new NbdServer()) {
            server.addExport("secret", new MemoryBlockDevice(1 << 20));
            int port =
                    server.listen(ListenerConfig.loopback(0).withTls(serverContext, true)).port();
            NbdClient.Options options =
                    NbdClient.Options.of("127.0.0.1", port, "secret").withTls(clientContext);
            try (NbdClient client = NbdClient.connect(options)) {
                byte[] data = NbdClientContract.random(256 << 10, 9);
                client.write(4096, ByteBuffer.wrap(data), true);
                assertArrayEquals(data, NbdClientContract.read(client, 4096, data.length));
            }
            IOException refused =
                    assertThrows(
                            IOException.class,
                            () -> NbdClient.connect("127.0.0.1", port, "secret"));
            assertTrue(refused.getMessage().contains("80000005"), refused.getMessage());
        }
    }

    @Test
    void optionalTlsServesPlainAndTlsClients() throws Exception {
        try (NbdServer server = new NbdServer()) {
            server.addExport("disk", new MemoryBlockDevice(1 << 20));
            int port =
                    server.listen(ListenerConfig.loopback(0).withTls(serverContext, false)).port();
            try (NbdClient plain = NbdClient.connect("127.0.0.1", port, "disk");
                    NbdClient tls =
                            NbdClient.connect(
                                    NbdClient.Options.of("127.0.0.1", port, "disk")
                                            .withTls(clientContext))) {
                plain.write(0, ByteBuffer.wrap(new byte[] {7, 7, 7}), false);
                assertArrayEquals(new byte[] {7, 7, 7}, NbdClientContract.read(tls, 0, 3));
            }
        }
    }
}
