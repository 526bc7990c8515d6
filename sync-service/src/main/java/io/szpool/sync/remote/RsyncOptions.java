package io.szpool.sync.remote;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the system rsync is run: bandwidth, timeouts, retries, and the credentials it reads from
 * files. Only file names are kept here, never a secret itself.
 *
 * @param bwlimitKiB {@code --bwlimit} in KiB/s, 0 for none
 * @param ioTimeout {@code --timeout}: a transfer that moves no data this long fails
 * @param connectTimeout how long connecting to a daemon or SSH server may take
 * @param attempts tries per rsync call when the failure looks transient (network, daemon down)
 * @param backoff pause before the second try; doubled before each further one
 * @param passwordFile rsync daemon password ({@code --password-file}), mode 0600
 * @param sshKey private key for SSH targets ({@code ssh -i})
 * @param sshPort SSH port, when not 22
 * @param sshKnownHosts known_hosts file for SSH targets; without it, the user's
 */
public record RsyncOptions(
        String binary,
        int bwlimitKiB,
        Duration ioTimeout,
        Duration connectTimeout,
        int attempts,
        Duration backoff,
        Optional<Path> passwordFile,
        Optional<Path> sshKey,
        Optional<Integer> sshPort,
        Optional<Path> sshKnownHosts) {

    public static RsyncOptions defaults() {
        return new RsyncOptions(
                "rsync",
                0,
                Duration.ofSeconds(60),
                Duration.ofSeconds(10),
                3,
                Duration.ofSeconds(2),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty());
    }

    public RsyncOptions withBwlimit(int kib) {
        return new RsyncOptions(
                binary,
                kib,
                ioTimeout,
                connectTimeout,
                attempts,
                backoff,
                passwordFile,
                sshKey,
                sshPort,
                sshKnownHosts);
    }

    public RsyncOptions withRetries(int attempts, Duration backoff) {
        return new RsyncOptions(
                binary,
                bwlimitKiB,
                ioTimeout,
                connectTimeout,
                attempts,
                backoff,
                passwordFile,
                sshKey,
                sshPort,
                sshKnownHosts);
    }

    public RsyncOptions withCredentials(
            Optional<Path> passwordFile,
            Optional<Path> sshKey,
            Optional<Integer> sshPort,
            Optional<Path> sshKnownHosts) {
        return new RsyncOptions(
                binary,
                bwlimitKiB,
                ioTimeout,
                connectTimeout,
                attempts,
                backoff,
                passwordFile,
                sshKey,
                sshPort,
                sshKnownHosts);
    }
}
