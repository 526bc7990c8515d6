package io.szpool.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds files of the szpool source tree from wherever a test runs (a module folder, the root). */
public final class ProjectLayout {
    private ProjectLayout() {}

    /** The project root: the nearest folder upwards that holds {@code deploy/kafka}. */
    public static Path root() {
        String configured = System.getProperty("szpool.root");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("deploy/kafka/server.properties.template"))) {
                return dir;
            }
        }
        throw new IllegalStateException(
                "cannot find the szpool project root above "
                        + Path.of("").toAbsolutePath()
                        + "; set -Dszpool.root");
    }

    /** The {@code target} folder of the module the test runs in, for logs and scratch data. */
    public static Path target() {
        Path target = Path.of("target").toAbsolutePath();
        try {
            Files.createDirectories(target);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create " + target, e);
        }
        return target;
    }
}
