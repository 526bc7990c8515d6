package io.szpool.nbd;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** nbdkit, the reference NBD server, run as a child process on a loopback port. */
final class Nbdkit implements AutoCloseable {
    private final Process process;
    private final int port;

    private Nbdkit(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts {@code nbdkit PLUGIN ARGS...} in the foreground on a free loopback port. */
    static Nbdkit start(String... pluginAndArgs) throws Exception {
        int port = Tools.freePort();
        List<String> command = new ArrayList<>(List.of("nbdkit", "-f", "--exit-with-parent"));
        command.addAll(List.of("-i", "127.0.0.1", "-p", String.valueOf(port)));
        command.addAll(List.of(pluginAndArgs));
        Process process =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
        Tools.awaitListening(port, process);
        return new Nbdkit(process, port);
    }

    int port() {
        return port;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
