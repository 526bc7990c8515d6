package io.szpool.sync;

import io.szpool.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * A real {@code rsync --daemon} on a free loopback port, with its own config, one module {@code
 * backup} and a user with a password (in a 0600 secrets file, and a 0600 client password file).
 */
final class RsyncDaemon implements AutoCloseable {
    static final String USER = "szsync";
    static final String PASSWORD = "daemon-secret-Zq81x";

    final Path dir;
    final Path module;
    final Path passwordFile;
    private int port;
    private Process process;

    RsyncDaemon(Path dir) throws IOException {
        this.dir = dir;
        this.module = Files.createDirectories(dir.resolve("module"));
        Path secrets = dir.resolve("secrets");
        Files.writeString(secrets, USER + ":" + PASSWORD + "\n");
        Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rw-------"));
        passwordFile = dir.resolve("client-password");
        Files.writeString(passwordFile, PASSWORD + "\n");
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        start();
    }

    void start() throws IOException {
        port = Ports.free();
        boolean root = "root".equals(System.getProperty("user.name"));
        Path conf = dir.resolve("rsyncd.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "address = 127.0.0.1",
                        "port = " + port,
                        "pid file = " + dir.resolve("rsyncd-" + port + ".pid"),
                        "log file = " + dir.resolve("rsyncd.log"),
                        "use chroot = no",
                        // As root the daemon drops to nobody unless told otherwise; every write
                        // would then fail with EACCES.
                        root ? "uid = root" : "",
                        root ? "gid = root" : "",
                        "[backup]",
                        "path = " + module,
                        "read only = no",
                        "auth users = " + USER,
                        "secrets file = " + dir.resolve("secrets"),
                        ""));
        process =
                new ProcessBuilder(List.of("rsync", "--daemon", "--no-detach", "--config=" + conf))
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("rsyncd.out").toFile())
                        .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Ports.accepts(port)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IOException(
                        "rsync daemon did not start: "
                                + Files.readString(dir.resolve("rsyncd.out")));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    /** Kills the daemon and every transfer it serves, as a crash or a cut network would. */
    void kill() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor();
    }

    String url(String path) {
        return "rsync://" + USER + "@127.0.0.1:" + port + "/backup/" + path;
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
