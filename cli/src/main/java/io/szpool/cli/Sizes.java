package io.szpool.cli;

/** Byte counts the way `zpool list` shows them: 1G, 512M, 64K. */
final class Sizes {
    private Sizes() {}

    static String human(long bytes) {
        String[] units = {"B", "K", "M", "G", "T", "P"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.format("%d", (long) v) : String.format("%.1f", v))
                + units[u];
    }
}
