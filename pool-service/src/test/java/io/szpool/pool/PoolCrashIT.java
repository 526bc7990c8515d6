package io.szpool.pool;

import static io.szpool.pool.PoolServices.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.nbd.NbdClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the packaged pool-service in the middle of sustained writes, at random moments, five
 * times: after each restart every write acknowledged by a FLUSH reads back (or a later write to the
 * same block that was in flight), and nothing else changed: a region written once before the first
 * crash and a region never written stay as they were.
 */
class PoolCrashIT {
    private static final String NAME = "crashy";
    private static final int ROUNDS = 5;
    private static final long SENTINEL = 16 * MIB; // [0, 16 MiB): written once, flushed
    private static final int BLOCKS = 32; // [16 MiB, 48 MiB): rewritten again and again
    private static final int BLOCK = (int) MIB;
    private static final long UNTOUCHED = SENTINEL + BLOCKS * MIB; // [48 MiB, 64 MiB): zeroes
    private static final int WRITES_PER_FLUSH = 5;
    private static final int SECTOR = 4096;
    private PoolServices services;

    @AfterEach
    void stop() {
        if (services != null) {
            services.close();
        }
    }

    /**
     * Per block: what is durable (acknowledged by a FLUSH, or read back after a crash) and the
     * writes issued since the last FLUSH, which may or may not have landed.
     */
    private static final class Ledger {
        final Map<Integer, byte[]> durable = new HashMap<>();
        final Map<Integer, List<Long>> pending = new HashMap<>();

        synchronized void written(int block, long seed) {
            pending.computeIfAbsent(block, b -> new ArrayList<>()).add(seed);
        }

        synchronized void flushed() {
            pending.forEach(
                    (block, seeds) ->
                            durable.put(block, content(seeds.get(seeds.size() - 1), BLOCK)));
            pending.clear();
        }
    }

    @Test
    void everyFlushedWriteSurvivesKillNineAndNothingElseChanges() throws Exception {
        services = new PoolServices("crash", "60s");
        services.start();
        services.create(NAME, 64 * MIB);
        byte[] sentinel = content(-1, (int) SENTINEL);
        try (NbdClient volume = services.volume(NAME)) {
            for (long at = 0; at < SENTINEL; at += BLOCK) {
                volume.write(at, ByteBuffer.wrap(sentinel, (int) at, BLOCK), false);
            }
            volume.flush();
        }
        Ledger ledger = new Ledger();
        Random random = new Random(2026);
        long seed = 0;
        for (int round = 0; round < ROUNDS; round++) {
            long first = seed;
            CompletableFuture<Long> writer =
                    CompletableFuture.supplyAsync(() -> writeUntilCut(ledger, first));
            // A random moment: the writer has been flushing for 0.5 to 3 s.
            Thread.sleep(500 + random.nextInt(2500));
            services.killPool();
            seed = writer.get(60, TimeUnit.SECONDS);
            services.startPool();
            services.awaitServing(NAME);
            verify(ledger, sentinel, round);
        }
        assertTrue(ledger.durable.size() > 0, "some writes were flushed before the crashes");
    }

    /** Writes blocks round-robin, FLUSH every few writes, until the service is killed. */
    private Long writeUntilCut(Ledger ledger, long firstSeed) {
        long seed = firstSeed;
        try (NbdClient volume = services.volume(NAME)) {
            while (true) {
                int block = (int) (seed % BLOCKS);
                ledger.written(block, seed);
                volume.write(
                        SENTINEL + (long) block * BLOCK,
                        ByteBuffer.wrap(content(seed, BLOCK)),
                        false);
                seed++;
                if (seed % WRITES_PER_FLUSH == 0) {
                    volume.flush();
                    ledger.flushed();
                }
            }
        } catch (IOException | RuntimeException cut) {
            return seed; // the service is gone; writes in flight may or may not have landed
        }
    }

    private void verify(Ledger ledger, byte[] sentinel, int round) throws IOException {
        try (NbdClient volume = services.volume(NAME)) {
            byte[] back = new byte[(int) SENTINEL];
            volume.read(0, ByteBuffer.wrap(back));
            assertArrayEquals(sentinel, back, "round " + round + ": the sentinel region changed");
            synchronized (ledger) {
                java.util.Set<Integer> blocks = new java.util.TreeSet<>(ledger.durable.keySet());
                blocks.addAll(ledger.pending.keySet());
                for (int block : blocks) {
                    byte[] got = new byte[BLOCK];
                    volume.read(SENTINEL + (long) block * BLOCK, ByteBuffer.wrap(got));
                    List<byte[]> allowed = new ArrayList<>();
                    allowed.add(ledger.durable.getOrDefault(block, new byte[BLOCK]));
                    for (long s : ledger.pending.getOrDefault(block, List.of())) {
                        allowed.add(content(s, BLOCK));
                    }
                    // An unflushed write may land sector by sector, as on any disk with a write
                    // cache; every 4 KiB must be the durable content or one of those writes.
                    for (int at = 0; at < BLOCK; at += SECTOR) {
                        boolean ok = false;
                        for (byte[] a : allowed) {
                            ok |= Arrays.equals(got, at, at + SECTOR, a, at, at + SECTOR);
                        }
                        assertTrue(
                                ok,
                                "round "
                                        + round
                                        + ": block "
                                        + block
                                        + " at "
                                        + at
                                        + " holds neither its flushed write nor one in flight");
                    }
                    ledger.durable.put(block, got); // what the next round starts from
                }
                ledger.pending.clear();
            }
            byte[] zeroes = new byte[(int) (64 * MIB - UNTOUCHED)];
            byte[] untouched = new byte[zeroes.length];
            volume.read(UNTOUCHED, ByteBuffer.wrap(untouched));
            assertArrayEquals(zeroes, untouched, "round " + round + ": the unwritten region");
        }
    }

    private static byte[] content(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed * 7919 + 17).nextBytes(b);
        return b;
    }
}
