package io.szpool.deploy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs PostgreSQL for the local stack on 127.0.0.1 until stopped, keeping its data folder between
 * runs. Usage: {@code LocalPostgres --data DIR [--port 15432]}.
 */
public final class LocalPostgres {
    private LocalPostgres() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        Path data = null;
        int port = 15432;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data" -> data = Path.of(value(args, ++i, "--data"));
                case "--port" -> port = Integer.parseInt(value(args, ++i, "--port"));
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (data == null) {
            usage("--data DIR is required");
        }
        Files.createDirectories(data);
        EmbeddedPostgres pg =
                EmbeddedPostgres.builder()
                        .setDataDirectory(data)
                        .setCleanDataDirectory(false)
                        .setPort(port)
                        .setServerConfig("listen_addresses", "127.0.0.1")
                        .start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    try {
                                        pg.close();
                                    } catch (IOException e) {
                                        System.err.println("postgres: stop failed: " + e);
                                    }
                                    stopped.countDown();
                                }));
        System.out.println("postgres: ready on 127.0.0.1:" + pg.getPort() + " (data " + data + ")");
        stopped.await();
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            usage(flag + " needs a value");
        }
        return args[i];
    }

    private static void usage(String problem) {
        System.err.println(
                "postgres: " + problem + "\nusage: LocalPostgres --data DIR [--port 15432]");
        System.exit(2);
    }
}
