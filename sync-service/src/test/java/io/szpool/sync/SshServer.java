package io.szpool.sync;

import io.szpool.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A real OpenSSH {@code sshd} on a free loopback port with its own config, host key, and one
 * authorized client key; the client gets a known_hosts file that pins the host key. Runs as the
 * test's user (root here, hence {@code StrictModes no} for keys under the build folder).
 */
final class SshServer implements AutoCloseable {
    static final Path SSHD = Path.of("/usr/sbin/sshd");

    final Path dir;
    final Path clientKey;
    final Path knownHosts;
    final int port;
    private final Process process;

    SshServer(Path dir) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(SSHD), "no " + SSHD + " (openssh-server)");
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")),
                "sshd with its own config runs as root here; this user is "
                        + System.getProperty("user.name"));
        this.dir = Files.createDirectories(dir);
        // sshd refuses to start without its privilege separation folder.
        Files.createDirectories(Path.of("/run/sshd"));
        Path hostKey = dir.resolve("host_key");
        clientKey = dir.resolve("client_key");
        keygen(hostKey);
        keygen(clientKey);
        Path authorized = dir.resolve("authorized_keys");
        Files.copy(dir.resolve("client_key.pub"), authorized);
        port = Ports.free();
        knownHosts = dir.resolve("known_hosts");
        Files.writeString(
                knownHosts,
                "[127.0.0.1]:" + port + " " + Files.readString(dir.resolve("host_key.pub")));
        Path config = dir.resolve("sshd_config");
        Files.writeString(
                config,
                String.join(
                        "\n",
                        "Port " + port,
                        "ListenAddress 127.0.0.1",
                        "HostKey " + hostKey,
                        "PidFile " + dir.resolve("sshd.pid"),
                        "AuthorizedKeysFile " + authorized,
                        "PubkeyAuthentication yes",
                        "PasswordAuthentication no",
                        "KbdInteractiveAuthentication no",
                        "PermitRootLogin prohibit-password",
                        "UsePAM no",
                        "StrictModes no",
                        "LogLevel VERBOSE",
                        ""));
        process =
                new ProcessBuilder(List.of(SSHD.toString(), "-D", "-e", "-f", config.toString()))
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("sshd.log").toFile())
                        .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Ports.accepts(port)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IOException(
                        "sshd did not start: " + Files.readString(dir.resolve("sshd.log")));
            }
            Thread.sleep(50);
        }
    }

    private static void keygen(Path key) throws IOException, InterruptedException {
        Process p =
                new ProcessBuilder(
                                "ssh-keygen",
                                "-q",
                                "-t",
                                "ed25519",
                                "-N",
                                "",
                                "-C",
                                "szpool-test",
                                "-f",
                                key.toString())
                        .redirectErrorStream(true)
                        .start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("ssh-keygen failed: " + out);
        }
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }

    /** The {@code user@host:path} address of {@code path} on this server. */
    String address(Path path) {
        return System.getProperty("user.name") + "@127.0.0.1:" + path.toAbsolutePath();
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("sshd.log"));
    }

    @Override
    public void close() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroy();
        process.waitFor();
    }
}
