package io.szpool.nbd;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** Command line: serve files as NBD exports until interrupted. */
public final class Main {
    private static final String USAGE =
            "usage: java -jar szpool-nbd.jar serve --port P --export NAME=FILE"
                    + " [--export NAME2=FILE2 ...] [--read-only] [--bind 127.0.0.1]"
                    + " [--workers N]";

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !args[0].equals("serve")) {
            System.err.println(USAGE);
            System.exit(2);
        }
        int port = 10809;
        String bind = "127.0.0.1";
        boolean readOnly = false;
        NbdServer.Settings settings = NbdServer.Settings.defaults();
        Map<String, Path> files = new LinkedHashMap<>();
        try {
            for (int i = 1; i < args.length; i++) {
                switch (args[i]) {
                    case "--port" -> port = Integer.parseInt(args[++i]);
                    case "--bind" -> bind = args[++i];
                    case "--read-only" -> readOnly = true;
                    case "--workers" ->
                            settings = settings.withWorkersPerConnection(parseInt(args[++i]));
                    case "--export" -> {
                        String spec = args[++i];
                        int eq = spec.indexOf('=');
                        if (eq < 0) {
                            throw new IllegalArgumentException("--export wants NAME=FILE");
                        }
                        files.put(spec.substring(0, eq), Path.of(spec.substring(eq + 1)));
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
            if (files.isEmpty()) {
                throw new IllegalArgumentException("at least one --export is needed");
            }
        } catch (RuntimeException e) {
            System.err.println(e.getMessage() + "\n" + USAGE);
            System.exit(2);
        }

        NbdServer server = new NbdServer(settings);
        List<BlockDevice> devices = new ArrayList<>();
        try {
            for (Map.Entry<String, Path> e : files.entrySet()) {
                BlockDevice device = FileBlockDevice.open(e.getValue(), readOnly);
                devices.add(device);
                server.addExport(e.getKey(), device);
            }
        } catch (IOException e) {
            System.err.println("cannot open export: " + e);
            System.exit(1);
        }
        server.setDefaultExport(files.keySet().iterator().next());
        NbdServer.Listener listener =
                server.listen(
                        ListenerConfig.loopback(port)
                                .withAddress(
                                        new InetSocketAddress(InetAddress.getByName(bind), port)));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    printMetrics(server);
                                    server.close();
                                    for (BlockDevice d : devices) {
                                        NbdServer.closeQuietly(d);
                                    }
                                    stopped.countDown();
                                }));
        System.out.println(
                "szpool-nbd serving "
                        + files.keySet()
                        + " on "
                        + listener.address().getHostString()
                        + ":"
                        + listener.port());
        System.out.flush();
        stopped.await();
    }

    /** One line per export on shutdown, so a run leaves a record of what clients asked for. */
    private static void printMetrics(NbdServer server) {
        server.metrics()
                .forEach(
                        (name, m) -> {
                            StringBuilder line = new StringBuilder("export " + name + ":");
                            for (ExportMetrics.Command c : ExportMetrics.Command.values()) {
                                line.append(' ')
                                        .append(c.name().toLowerCase(java.util.Locale.ROOT))
                                        .append('=')
                                        .append(m.requests(c));
                            }
                            line.append(" bytes_read=").append(m.bytesRead());
                            line.append(" bytes_written=").append(m.bytesWritten());
                            line.append(" errors=").append(m.errors());
                            long count = Math.max(1, m.requests());
                            line.append(" mean_latency_us=")
                                    .append(m.latencySumNanos() / count / 1000);
                            System.out.println(line);
                        });
        System.out.flush();
    }

    private static int parseInt(String s) {
        return Integer.parseInt(s);
    }
}
