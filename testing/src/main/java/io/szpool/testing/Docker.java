package io.szpool.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Whether a Docker engine is reachable, decided cheaply before Testcontainers is asked. */
final class Docker {
    private static Boolean available;

    private Docker() {}

    static synchronized boolean available() {
        if (available == null) {
            boolean hint =
                    System.getenv("DOCKER_HOST") != null
                            || Files.exists(Path.of("/var/run/docker.sock"));
            // Without a socket or DOCKER_HOST Testcontainers would spend seconds probing for
            // nothing.
            available =
                    hint
                            && !"false".equals(System.getenv("SZPOOL_TEST_DOCKER"))
                            && org.testcontainers.DockerClientFactory.instance()
                                    .isDockerAvailable();
        }
        return available;
    }
}
