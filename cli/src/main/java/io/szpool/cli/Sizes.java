package io.szpool.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte counts the way `zpool list` shows them (1G, 512M, 64K) and reads them on the command line.
 */
final class Sizes {
    private static final Pattern SIZE =
            Pattern.compile("([0-9]{1,15})\\s*(?:([KMGTP])(?:i?B)?|B)?", Pattern.CASE_INSENSITIVE);

    private Sizes() {}

    static String human(long bytes) {
        String[] units = {"B", "K", "M", "G", "T", "P"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v)
                        ? String.format("%d", (long) v)
                        : String.format(Locale.ROOT, "%.1f", v))
                + units[u];
    }

    /** 64M, 1G, 1GiB, 4096: powers of 1024, as zfs and truncate read them. */
    static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new CliException(
                    "not a size: '" + text + "' (e.g. 64M, 1G, 4096)", CliException.BAD_INPUT);
        }
        int shift = m.group(2) == null ? 0 : "BKMGTP".indexOf(m.group(2).toUpperCase()) * 10;
        long n = Long.parseLong(m.group(1));
        if (n <= 0 || Long.numberOfLeadingZeros(n) <= shift) {
            throw new CliException("size out of range: '" + text + "'", CliException.BAD_INPUT);
        }
        return n << shift;
    }
}
