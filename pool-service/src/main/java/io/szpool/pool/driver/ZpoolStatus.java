package io.szpool.pool.driver;

import io.szpool.raidz.DeviceStatus;
import io.szpool.raidz.Health;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One pool as {@code zpool status -P NAME} prints it: the pool's state, each top-level vdev with
 * its devices (state and READ / WRITE / CKSUM counts) and the {@code scan:} line. Parsed from the
 * text because that is what every OpenZFS release prints the same way; {@code -j} (JSON) exists
 * only since OpenZFS 2.3.
 */
public record ZpoolStatus(
        String pool, Health state, List<VdevStatus> vdevs, Optional<ScanState> scan) {

    /** A top-level vdev ({@code raidz2-0}) and its devices in column order. */
    public record VdevStatus(int index, String name, Health state, List<DeviceStatus> devices) {}

    private static final Pattern HEADER =
            Pattern.compile(
                    "^\\s*(pool|state|status|action|see|scan|scrub|remove|checkpoint|config|errors):\\s?(.*)$");
    private static final Pattern FINISHED =
            Pattern.compile(
                    "^(scrub repaired|resilvered) (\\S+) in .*? with (\\d+) errors? on .*$");
    private static final Pattern RUNNING =
            Pattern.compile("^(scrub|resilver) in progress since .*$");
    private static final Pattern PROGRESS =
            Pattern.compile("(\\S+) (?:repaired|resilvered), ([\\d.]+)% done");
    private static final Pattern CANCELED = Pattern.compile("^(scrub|resilver) canceled .*$");
    private static final Pattern PAUSED = Pattern.compile("^(scrub) paused since .*$");
    private static final Pattern SIZE = Pattern.compile("^([\\d.]+)([BKMGTPE]?)$");

    /** Parses the status of one pool; the first pool when the text holds several. */
    public static ZpoolStatus parse(String text) {
        Map<String, StringBuilder> fields = new LinkedHashMap<>();
        List<String> config = new ArrayList<>();
        String field = null;
        for (String line : text.split("\\R")) {
            Matcher header = HEADER.matcher(line);
            if (header.matches()) {
                field = header.group(1);
                if (fields.containsKey(field) && field.equals("pool")) {
                    break; // the next pool's status begins
                }
                fields.computeIfAbsent(field, k -> new StringBuilder()).append(header.group(2));
            } else if ("config".equals(field)) {
                config.add(line);
            } else if (field != null && !line.isBlank()) {
                fields.get(field).append('\n').append(line.strip());
            }
        }
        if (!fields.containsKey("pool") || !fields.containsKey("state")) {
            throw new IllegalArgumentException(
                    "not the output of zpool status: no 'pool:' and 'state:' lines in: "
                            + text.lines().limit(5).toList());
        }
        String pool = fields.get("pool").toString().strip();
        Health state = health(fields.get("state").toString().strip());
        StringBuilder scanText =
                fields.containsKey("scan") ? fields.get("scan") : fields.get("scrub");
        return new ZpoolStatus(
                pool,
                state,
                vdevs(pool, config),
                scanText == null ? Optional.empty() : scan(scanText.toString().strip()));
    }

    /**
     * The config table: the pool's own line, one line per top-level vdev two spaces in, its devices
     * four spaces in. A line at the pool's level other than the pool ({@code logs}, {@code cache},
     * {@code spares}) starts devices that hold no data of ours; they are left out.
     */
    private static List<VdevStatus> vdevs(String pool, List<String> config) {
        List<VdevStatus> vdevs = new ArrayList<>();
        Integer base = null;
        String vdevName = null;
        Health vdevState = null;
        List<DeviceStatus> devices = new ArrayList<>();
        for (String line : config) {
            if (line.isBlank()) {
                if (base != null) {
                    break;
                }
                continue;
            }
            String[] cols = line.strip().split("\\s+");
            if (base == null) {
                if (cols[0].equals(pool)) {
                    base = indent(line);
                }
                continue; // the NAME STATE READ WRITE CKSUM header, or the pool itself
            }
            int level = (indent(line) - base) / 2;
            if (level <= 0) {
                break; // logs, cache, spares, special, dedup
            }
            if (level == 1) {
                if (vdevName != null) {
                    vdevs.add(vdev(vdevs.size(), vdevName, vdevState, devices));
                }
                vdevName = cols[0];
                vdevState = cols.length > 1 ? health(cols[1]) : Health.UNAVAIL;
                devices = new ArrayList<>();
            } else if (level == 2) {
                devices.add(device(vdevs.size(), devices.size(), cols));
            }
            // Deeper levels (replacing-N, spare-N children) are left out: the column is the parent.
        }
        if (vdevName != null) {
            vdevs.add(vdev(vdevs.size(), vdevName, vdevState, devices));
        }
        return vdevs;
    }

    private static VdevStatus vdev(
            int index, String name, Health state, List<DeviceStatus> devices) {
        if (devices.isEmpty()) {
            // A single-device top-level vdev (not what szpool builds, but zpool allows it).
            devices = List.of(new DeviceStatus(index, 0, name, state, 0, 0, 0));
        }
        return new VdevStatus(index, name, state, List.copyOf(devices));
    }

    private static DeviceStatus device(int vdev, int column, String[] cols) {
        String name = cols[0];
        // A missing device shows as its guid, with "was /dev/..." naming the path it had.
        for (int i = 5; i + 1 < cols.length; i++) {
            if (cols[i].equals("was")) {
                name = cols[i + 1];
                break;
            }
        }
        return new DeviceStatus(
                vdev,
                column,
                name,
                cols.length > 1 ? health(cols[1]) : Health.UNAVAIL,
                cols.length > 2 ? count(cols[2]) : 0,
                cols.length > 3 ? count(cols[3]) : 0,
                cols.length > 4 ? count(cols[4]) : 0);
    }

    private static int indent(String line) {
        int i = 0;
        while (i < line.length() && Character.isWhitespace(line.charAt(i))) {
            i++;
        }
        // A tab before the table counts as one column like a space: only differences matter.
        return i;
    }

    static Optional<ScanState> scan(String text) {
        String first = text.lines().findFirst().orElse("").strip();
        Matcher m = FINISHED.matcher(first);
        if (m.matches()) {
            return Optional.of(
                    new ScanState(
                            m.group(1).startsWith("scrub") ? "scrub" : "resilver",
                            "finished",
                            100,
                            bytes(m.group(2)),
                            Long.parseLong(m.group(3))));
        }
        m = RUNNING.matcher(first);
        if (m.matches()) {
            Matcher p = PROGRESS.matcher(text);
            return Optional.of(
                    p.find()
                            ? new ScanState(
                                    m.group(1),
                                    "running",
                                    Double.parseDouble(p.group(2)),
                                    bytes(p.group(1)),
                                    0)
                            : new ScanState(m.group(1), "running", 0, 0, 0));
        }
        m = CANCELED.matcher(first);
        if (m.matches()) {
            return Optional.of(new ScanState(m.group(1), "canceled", 0, 0, 0));
        }
        m = PAUSED.matcher(first);
        if (m.matches()) {
            return Optional.of(new ScanState("scrub", "paused", 0, 0, 0));
        }
        return Optional.empty(); // "none requested"
    }

    /** zpool's states in the engine's words: OFFLINE and REMOVED devices serve nothing. */
    static Health health(String state) {
        return switch (state.toUpperCase(Locale.ROOT)) {
            case "ONLINE" -> Health.ONLINE;
            case "DEGRADED" -> Health.DEGRADED;
            case "FAULTED", "SUSPENDED" -> Health.FAULTED;
            default -> Health.UNAVAIL; // UNAVAIL, OFFLINE, REMOVED
        };
    }

    /** An error count: exact below 1000, then zpool abbreviates ({@code 1.2K}, {@code 135M}). */
    static long count(String text) {
        return bytes(text);
    }

    /** zpool's human sizes ({@code 0B}, {@code 8.50K}, {@code 1.36G}; 1024-based) in bytes. */
    static long bytes(String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a zpool size or count: '" + text + "'");
        }
        int power = "BKMGTPE".indexOf(m.group(2).isEmpty() ? "B" : m.group(2));
        return Math.round(Double.parseDouble(m.group(1)) * Math.pow(1024, power));
    }

    /** One line of {@code zpool list -Hp -o name,size,alloc,free,health}. */
    public record ListLine(String name, long size, long allocated, long free, Health health) {

        /** Parses the tab-separated, exact-bytes line; the first line when there are several. */
        public static ListLine parse(String text) {
            String line = text.lines().filter(l -> !l.isBlank()).findFirst().orElse("");
            String[] cols = line.split("\t");
            if (cols.length != 5) {
                throw new IllegalArgumentException(
                        "zpool list -Hp -o name,size,alloc,free,health printed '"
                                + line
                                + "', not five tab-separated fields");
            }
            try {
                return new ListLine(
                        cols[0],
                        Long.parseLong(cols[1]),
                        Long.parseLong(cols[2]),
                        Long.parseLong(cols[3]),
                        ZpoolStatus.health(cols[4]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "zpool list -Hp printed a size that is not a number: '" + line + "'");
            }
        }
    }
}
