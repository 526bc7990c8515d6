package io.szpool.sync.remote;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What is on a target: every folder and file below its root, from {@code rsync --list-only}. */
public final class TargetListing {

    /** One regular file, by its path relative to the target's root. */
    public record Entry(String path, long size) {

        /** The first path element: the generation folder. */
        public String folder() {
            int slash = path.indexOf('/');
            return slash < 0 ? "" : path.substring(0, slash);
        }

        public String name() {
            return path.substring(path.lastIndexOf('/') + 1);
        }
    }

    // drwxr-xr-x          4096 2026/11/26 23:16:35 name
    private static final Pattern LINE =
            Pattern.compile("^([-dlpscb])\\S*\\s+([\\d,]+)\\s+\\S+\\s+\\S+\\s+(.+)$");

    private final List<String> folders;
    private final List<Entry> files;

    private TargetListing(List<String> folders, List<Entry> files) {
        this.folders = folders;
        this.files = files;
    }

    /** Lists the target; a root that does not exist yet lists as empty. */
    public static TargetListing of(Rsync rsync) throws RsyncException, InterruptedException {
        Target target = rsync.target();
        if (target.kind() == Target.Kind.LOCAL
                && !java.nio.file.Files.isDirectory(target.localPath())) {
            return new TargetListing(List.of(), List.of());
        }
        Rsync.Result result;
        try {
            result = rsync.run(List.of("--list-only", "-r", target.resolve("")), false);
        } catch (RsyncException e) {
            if (e.exitCode() == 23 && e.getMessage().contains("No such file")) {
                return new TargetListing(List.of(), List.of());
            }
            throw e;
        }
        return parse(result.output());
    }

    static TargetListing parse(List<String> lines) {
        List<String> folders = new ArrayList<>();
        Map<String, Entry> files = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String name = m.group(3);
            if (name.equals(".")) {
                continue;
            }
            if (m.group(1).equals("d")) {
                if (!name.contains("/")) {
                    folders.add(name);
                }
            } else if (m.group(1).equals("-")) {
                files.put(name, new Entry(name, Long.parseLong(m.group(2).replace(",", ""))));
            }
        }
        return new TargetListing(List.copyOf(folders), List.copyOf(files.values()));
    }

    /** Top-level folders: generations, complete or not, of every pool on this target. */
    public List<String> folders() {
        return folders;
    }

    public List<Entry> files() {
        return files;
    }

    public List<Entry> filesIn(String folder) {
        return files.stream().filter(e -> e.folder().equals(folder)).toList();
    }
}
