package io.szpool.sync;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.szpool.sync.generation.GenerationStore;
import io.szpool.sync.generation.GenerationStore.SyncResult;
import io.szpool.sync.generation.TargetKeys;
import io.szpool.sync.source.AtRestChunkSource;
import io.szpool.sync.target.Rsync;
import io.szpool.sync.target.RsyncOptions;
import io.szpool.sync.target.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark, run by {@code bench/run} only (skipped unless {@code szpool.bench} is
 * set): a pool of N chunks synced to an rsync daemon on loopback, 1% of the volume changed in
 * random 64 KiB writes, synced again; against plain {@code rsync -a} of the same files to the same
 * daemon and, where installed, {@code restic backup} to a local repository. Figures go to {@code
 * target/bench.txt}.
 */
class SyncBenchIT {
    @TempDir Path tmp;

    @Test
    void bench() throws Exception {
        assumeTrue(System.getProperty("szpool.bench") != null, "run through bench/run");
        int chunks = Integer.getInteger("szpool.bench.chunks", 6);
        long chunkMiB = Long.getLong("szpool.bench.chunkMiB", 64);
        long size = chunkMiB << 20;
        List<String> out = new ArrayList<>();
        try (TestPool pool = new TestPool("bench", tmp.resolve("host"), chunks, size);
                TargetKeys keys = TargetKeys.of(pool.master);
                RsyncDaemon daemon = new RsyncDaemon(tmp.resolve("daemon"))) {
            for (String id : pool.chunkIds) {
                pool.write(id, size / 2, (int) (size / 2)); // fill the whole chunk
            }
            RsyncOptions options =
                    RsyncOptions.defaults()
                            .withCredentials(
                                    Optional.of(daemon.passwordFile),
                                    Optional.empty(),
                                    Optional.empty(),
                                    Optional.empty());
            GenerationStore store =
                    new GenerationStore(
                            new Rsync(Target.parse(daemon.url("szpool")), options),
                            tmp.resolve("work"));
            Rsync plain = new Rsync(Target.parse(daemon.url("plain")), options);
            Path chunkDir = pool.dataDir.resolve("chunks");
            long t0 = System.nanoTime();
            SyncResult first = sync(store, pool, keys);
            out.add(
                    String.format(
                            "first sync: %d bytes sent, %.2f s", first.bytesSent(), secs(t0)));
            plain.run(List.of("-a", "--mkpath", chunkDir + "/", daemon.url("plain") + "/"));
            Path repo = tmp.resolve("restic");
            Path pw = tmp.resolve("restic-pw");
            Files.writeString(pw, "bench\n");
            boolean restic =
                    run(
                            List.of(
                                    "restic",
                                    "init",
                                    "-q",
                                    "-r",
                                    repo.toString(),
                                    "-p",
                                    pw.toString()));
            if (restic) {
                run(
                        List.of(
                                "restic",
                                "backup",
                                "-q",
                                "-r",
                                repo.toString(),
                                "-p",
                                pw.toString(),
                                chunkDir.toString()));
            }

            long total = (long) chunks * size;
            long writes = Math.max(1, total / 100 / 65536);
            Random random = new Random(7);
            for (long i = 0; i < writes; i++) {
                String id = pool.chunkIds.get(random.nextInt(chunks));
                long offset = (long) random.nextInt((int) (size / 65536)) * 65536;
                pool.write(id, offset, 65536);
            }
            long changed = writes * 65536;
            out.add(
                    String.format(
                            "changed: %d random 64 KiB writes = %d bytes (1%% of %d)",
                            writes, changed, total));

            t0 = System.nanoTime();
            SyncResult second = sync(store, pool, keys);
            double ours = secs(t0);
            t0 = System.nanoTime();
            Rsync.Result p = plain.run(List.of("-a", chunkDir + "/", daemon.url("plain") + "/"));
            double plainSecs = secs(t0);
            out.add(
                    String.format(
                            "second sync, szpool:   %12d bytes sent (%.2fx the change), literal %d, %.2f s",
                            second.bytesSent(),
                            (double) second.bytesSent() / changed,
                            second.literalBytes(),
                            ours));
            out.add(
                    String.format(
                            "second sync, rsync -a: %12d bytes sent (%.2fx the change), literal %d, %.2f s (szpool time %.2fx)",
                            p.bytesSent(),
                            (double) p.bytesSent() / changed,
                            p.literalBytes(),
                            plainSecs,
                            ours / plainSecs));
            if (restic) {
                t0 = System.nanoTime();
                run(
                        List.of(
                                "restic",
                                "backup",
                                "-q",
                                "-r",
                                repo.toString(),
                                "-p",
                                pw.toString(),
                                chunkDir.toString()));
                double r = secs(t0);
                out.add(
                        String.format(
                                "second backup, restic: %.2f s (szpool time %.2fx)", r, ours / r));
            } else {
                out.add("restic: not installed, peer skipped");
            }
        }
        Path report = Path.of("target/bench.txt");
        Files.write(report, out);
    }

    static SyncResult sync(GenerationStore store, TestPool pool, TargetKeys keys) throws Exception {
        try (AtRestChunkSource source = AtRestChunkSource.open(pool.dataDir, pool.poolId)) {
            return store.sync(
                    source, keys, "bench", 7, Set.of(), new GenerationStore.Listener() {});
        }
    }

    static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    static boolean run(List<String> command) throws InterruptedException {
        try {
            return new ProcessBuilder(command).inheritIO().start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
