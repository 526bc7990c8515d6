package io.szpool.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NBD_OPT_STARTTLS against libnbd (nbdinfo, nbdcopy), with a certificate made by openssl. */
class TlsInteropIT {
    @TempDir Path dir;

    @Test
    void libnbdClientsTalkTlsToARequiredTlsListener() throws Exception {
        Tools.assumeOnPath("openssl", "nbdinfo", "nbdcopy");
        // libnbd looks for ca-cert.pem in the directory named by tls-certificates.
        Tools.check(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                dir.resolve("server-key.pem").toString(),
                "-out",
                dir.resolve("ca-cert.pem").toString(),
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "basicConstraints=critical,CA:TRUE");
        Path store = dir.resolve("server.p12");
        Tools.check(
                "openssl",
                "pkcs12",
                "-export",
                "-name",
                "nbd",
                "-passout",
                "pass:changeit",
                "-inkey",
                dir.resolve("server-key.pem").toString(),
                "-in",
                dir.resolve("ca-cert.pem").toString(),
                "-out",
                store.toString());

        try (NbdServer server = new NbdServer();
                FileBlockDevice disk = FileBlockDevice.create(dir.resolve("disk.img"), 8L << 20)) {
            server.addExport("disk", disk);
            int port =
                    server.listen(ListenerConfig.loopback(0).withTls(serverContext(store), true))
                            .port();
            String query = "?tls-certificates=" + dir;

            String info = Tools.check("nbdinfo", "nbds://127.0.0.1:" + port + "/disk" + query);
            assertTrue(info.contains("TLS"), info);
            assertTrue(info.contains("export-size: " + (8L << 20)), info);

            Path source = ToolsInteropIT.randomFile(dir.resolve("random.bin"), 8L << 20);
            Tools.check(
                    "nbdcopy",
                    "--flush",
                    source.toString(),
                    "nbds://127.0.0.1:" + port + "/disk" + query);
            assertEquals(-1, Files.mismatch(source, disk.path()));

            Tools.Result plain = Tools.run("nbdinfo", "nbd://127.0.0.1:" + port + "/disk");
            assertTrue(plain.exitCode() != 0, "plain connection must be refused: " + plain);
        }
    }

    private static SSLContext serverContext(Path store) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(keys, "changeit".toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return context;
    }
}
