package io.szpool.sync.remote;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where generations go: a local folder, an rsync daemon module ({@code rsync://}) or a folder over
 * SSH ({@code user@host:path}). The address never holds a credential: rsync passwords and SSH keys
 * come from configuration, so {@link #address()} is safe for events and logs.
 */
public record Target(Kind kind, String address) {

    /** How rsync reaches the target. */
    public enum Kind {
        LOCAL,
        DAEMON,
        SSH
    }

    private static final Pattern DAEMON =
            Pattern.compile("rsync://(?:([^@/:]+)(:[^@/]*)?@)?([^/:@]+)(?::(\\d+))?/([^/]+)(/.*)?");
    private static final Pattern SSH = Pattern.compile("(?:([^@/:]+)@)?([^/:@]+):(.*)");

    /**
     * Parses a target address.
     *
     * @throws IllegalArgumentException with what is wrong; a password in an rsync URL is refused so
     *     that it never travels in events
     */
    public static Target parse(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("a target address is required");
        }
        String a = address.strip();
        while (a.length() > 1 && a.endsWith("/")) {
            a = a.substring(0, a.length() - 1);
        }
        if (a.startsWith("rsync://")) {
            Matcher m = DAEMON.matcher(a);
            if (!m.matches()) {
                throw new IllegalArgumentException(
                        "an rsync daemon target is rsync://[user@]host[:port]/module[/path]");
            }
            if (m.group(2) != null) {
                throw new IllegalArgumentException(
                        "an rsync:// target must not hold a password; put it in the file named by"
                                + " szpool.sync.rsync.password-file");
            }
            return new Target(Kind.DAEMON, a);
        }
        if (a.startsWith("/")) {
            return new Target(Kind.LOCAL, Path.of(a).normalize().toString());
        }
        if (a.contains("://")) {
            throw new IllegalArgumentException(
                    "unsupported target "
                            + a
                            + ": use /path, rsync://host/module/path or user@host:path");
        }
        Matcher m = SSH.matcher(a);
        if (m.matches() && !m.group(3).isEmpty()) {
            return new Target(Kind.SSH, a);
        }
        throw new IllegalArgumentException(
                "unsupported target "
                        + a
                        + ": use /path, rsync://host/module/path or user@host:path");
    }

    /** The address of {@code relative} under this target, as rsync takes it. */
    public String resolve(String relative) {
        if (relative.isEmpty()) {
            return address + "/";
        }
        return address + "/" + relative;
    }

    /** The local folder of a {@link Kind#LOCAL} target. */
    public Path localPath() {
        if (kind != Kind.LOCAL) {
            throw new IllegalStateException(address + " is not a local folder");
        }
        return Path.of(address);
    }

    @Override
    public String toString() {
        return address;
    }
}
