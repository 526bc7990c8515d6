package io.szpool.sync;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.szpool.nbd.NbdClient;
import io.szpool.sync.generation.GenerationStore;
import io.szpool.sync.generation.GenerationStore.SyncResult;
import io.szpool.sync.generation.TargetKeys;
import io.szpool.sync.remote.Rsync;
import io.szpool.sync.remote.RsyncOptions;
import io.szpool.sync.remote.Target;
import io.szpool.sync.source.AtRestChunkSource;
import io.szpool.sync.source.LiveChunkSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
        assumeTrue(
                System.getProperty("szpool.bench") != null
                        && System.getProperty("szpool.bench.live") == null,
                "run through bench/run");
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

    /**
     * The same comparison with the live capture: a real pool of CHUNKS chunks (width CHUNKS,
     * RAID-Z2) at pool-service, filled and changed through its NBD volume, synced through freeze,
     * snapshot and thaw; only the segments crypto-device-service saw written since the first
     * capture are read from the snapshot. The peers copy the same chunk files from
     * crypto-device-service's folder.
     */
    @Test
    void benchLive() throws Exception {
        assumeTrue(System.getProperty("szpool.bench.live") != null, "run through bench/run");
        int chunks = Integer.getInteger("szpool.bench.chunks", 6);
        long chunkMiB = Math.max(64, Long.getLong("szpool.bench.chunkMiB", 64));
        List<String> out = new ArrayList<>();
        try (LiveStack stack = new LiveStack(tmp.resolve("stack"), chunkMiB << 20);
                RsyncDaemon daemon = new RsyncDaemon(tmp.resolve("daemon"))) {
            stack.requireCaptureApi();
            stack.createPool(chunks);
            long volumeSize;
            Random random = new Random(7);
            try (NbdClient volume = stack.openVolume()) {
                volumeSize = volume.size();
                byte[] block = new byte[1 << 20];
                for (long at = 0; at + block.length <= volumeSize; at += block.length) {
                    random.nextBytes(block);
                    volume.write(at, ByteBuffer.wrap(block), false);
                }
                volume.flush();
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
            Path chunkDir = stack.dir.resolve("device").resolve("chunks");
            Path repo = tmp.resolve("restic");
            Path pw = tmp.resolve("restic-pw");
            Files.writeString(pw, "bench\n");
            List<String> restic =
                    List.of("restic", "-q", "-r", repo.toString(), "-p", pw.toString());
            try (TargetKeys keys = stack.targetKeys()) {
                long t0 = System.nanoTime();
                SyncResult first = liveSync(stack, store, keys, 1);
                out.add(
                        String.format(
                                "first sync (live): %d chunks, %d bytes sent, %.2f s, writes held"
                                        + " %d ms",
                                first.chunks(),
                                first.bytesSent(),
                                secs(t0),
                                first.barrierMillis()));
                try (var files = Files.list(chunkDir)) {
                    out.add("chunk files at crypto-device-service: " + files.count());
                }
                plain.run(List.of("-a", "--mkpath", chunkDir + "/", daemon.url("plain") + "/"));
                boolean haveRestic = run(concat(restic, "init"));
                if (haveRestic) {
                    run(concat(restic, "backup", chunkDir.toString()));
                }

                long writes = Math.max(1, volumeSize / 100 / 65536);
                try (NbdClient volume = stack.openVolume()) {
                    byte[] block = new byte[65536];
                    for (long i = 0; i < writes; i++) {
                        random.nextBytes(block);
                        long at = (long) random.nextInt((int) (volumeSize / 65536)) * 65536;
                        volume.write(at, ByteBuffer.wrap(block), false);
                    }
                    volume.flush();
                }
                long changed = writes * 65536;
                out.add(
                        String.format(
                                "changed: %d random 64 KiB writes to the volume = %d bytes (1%% of"
                                        + " %d)",
                                writes, changed, volumeSize));

                t0 = System.nanoTime();
                SyncResult second = liveSync(stack, store, keys, 2);
                double ours = secs(t0);
                out.add(
                        String.format(
                                "second sync, szpool live: %d of %d segments (%d bytes) read from"
                                        + " the snapshot",
                                lastRead[0], lastRead[1], lastRead[2]));
                t0 = System.nanoTime();
                Rsync.Result p =
                        plain.run(List.of("-a", chunkDir + "/", daemon.url("plain") + "/"));
                double plainSecs = secs(t0);
                out.add(
                        String.format(
                                "second sync, szpool live: %12d bytes sent (%.2fx the volume"
                                        + " change, %.2fx rsync's), literal %d, %d of %d chunks"
                                        + " sent, writes held %d ms, %.2f s",
                                second.bytesSent(),
                                (double) second.bytesSent() / changed,
                                (double) second.bytesSent() / p.bytesSent(),
                                second.literalBytes(),
                                second.chunksSent(),
                                second.chunks(),
                                second.barrierMillis(),
                                ours));
                out.add(
                        String.format(
                                "second sync, rsync -a:    %12d bytes sent (%.2fx the volume"
                                        + " change), literal %d, %.2f s (szpool time %.2fx)",
                                p.bytesSent(),
                                (double) p.bytesSent() / changed,
                                p.literalBytes(),
                                plainSecs,
                                ours / plainSecs));
                if (haveRestic) {
                    t0 = System.nanoTime();
                    run(concat(restic, "backup", chunkDir.toString()));
                    double r = secs(t0);
                    out.add(
                            String.format(
                                    "second backup, restic:    %.2f s (szpool time %.2fx)",
                                    r, ours / r));
                } else {
                    out.add("restic: not installed, peer skipped");
                }
            }
        }
        Files.write(Path.of("target/bench.txt"), out);
    }

    static SyncResult liveSync(LiveStack stack, GenerationStore store, TargetKeys keys, int n)
            throws Exception {
        try (LiveChunkSource source =
                new LiveChunkSource(
                        stack.poolClient(),
                        stack.deviceClient(),
                        stack.poolName,
                        stack.poolId,
                        stack.dir.resolve("capture-" + n),
                        Duration.ofSeconds(5))) {
            SyncResult r =
                    store.sync(
                            source, keys, "bench", 7, Set.of(), new GenerationStore.Listener() {});
            lastRead[0] = source.segmentsRead();
            lastRead[1] = source.chunks().stream().mapToLong(c -> (long) c.segments().size()).sum();
            lastRead[2] = source.bytesRead();
            return r;
        }
    }

    /** The last live capture's segments read, segments in all, bytes read. */
    static final long[] lastRead = new long[3];

    static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
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
