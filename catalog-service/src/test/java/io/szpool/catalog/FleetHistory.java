package io.szpool.catalog;

import io.szpool.events.CloudEvent;
import io.szpool.events.Command.GrowPool;
import io.szpool.events.Command.SyncPool;
import io.szpool.events.DeviceEvent.ChunkAttached;
import io.szpool.events.DeviceEvent.ChunkCreated;
import io.szpool.events.DeviceEvent.ChunkDestroyed;
import io.szpool.events.DeviceEvent.ChunkFailed;
import io.szpool.events.Event;
import io.szpool.events.EventTypes;
import io.szpool.events.PoolEvent.PoolCapacityAlert;
import io.szpool.events.PoolEvent.PoolCreated;
import io.szpool.events.PoolEvent.PoolDestroyed;
import io.szpool.events.PoolEvent.PoolGrown;
import io.szpool.events.PoolEvent.PoolHealthChanged;
import io.szpool.events.SyncEvent.ChunkRestored;
import io.szpool.events.SyncEvent.ChunkSynced;
import io.szpool.events.SyncEvent.RestoreCompleted;
import io.szpool.events.SyncEvent.RestoreFailed;
import io.szpool.events.SyncEvent.RestoreStarted;
import io.szpool.events.SyncEvent.SyncCompleted;
import io.szpool.events.SyncEvent.SyncFailed;
import io.szpool.events.SyncEvent.SyncStarted;
import io.szpool.events.Topics;
import io.szpool.events.Vocabulary.Cipher;
import io.szpool.events.Vocabulary.Driver;
import io.szpool.events.Vocabulary.GrowthTrigger;
import io.szpool.events.Vocabulary.Health;
import io.szpool.events.Vocabulary.Layout;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A recorded event history of a small fleet across all four topics, in the order it happened. Every
 * id (hosts, pools, chunks, events) carries {@code suffix}, so each replay writes its own rows.
 *
 * <p>Host h1 makes pool "tank" of four chunks, backs it up (generation 1), grows it on a capacity
 * alert, starts generation 2 which fails, and loses a chunk. Host h2 makes and destroys pool
 * "scratch", restores tank's generation 1, and an operator's CLI on h2 sends commands.
 */
final class FleetHistory {
    static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
    static final String TARGET = "rsync://backup.example/szpool";
    static final long GIB = 1L << 30;

    private final String suffix;
    private final Map<String, List<CloudEvent>> byTopic = new LinkedHashMap<>();
    private final List<CloudEvent> all = new ArrayList<>();

    FleetHistory(String suffix) {
        this.suffix = suffix;
        String h1 = id("h1");
        String h2 = id("h2");
        String tank = id("tank");
        String scratch = id("scratch");
        List<String> v0 = List.of(id("c1"), id("c2"), id("c3"), id("c4"));
        List<String> v1 = List.of(id("c5"), id("c6"), id("c7"), id("c8"));

        emit(new GrowPool(id("r0"), h1, tank, 1, GrowthTrigger.OPERATOR), h2, "cli");
        for (String c : v0) {
            emit(created(c, tank, h1), h1, "crypto-device-service");
            emit(
                    new ChunkAttached(c, tank, h1, "nbd://127.0.0.1:10810/" + c),
                    h1,
                    "crypto-device-service");
        }
        emit(
                new PoolCreated(tank, h1, "tank", Layout.RAIDZ2, 4, List.of(v0), GIB, 2 * GIB),
                h1,
                "pool-service");
        emit(new SyncPool(id("r1"), h1, tank, TARGET), h2, "cli");
        emit(new SyncStarted(tank, h1, 1, TARGET), h1, "sync-service");
        for (String c : v0) {
            emit(
                    new ChunkSynced(c, tank, h1, 1, TARGET, GIB, "sha256:" + c, 100),
                    h1,
                    "sync-service");
        }
        emit(new SyncCompleted(tank, h1, 1, TARGET, 4, 4 * GIB, 450), h1, "sync-service");
        emit(new PoolCapacityAlert(tank, h1, 2 * GIB, 17 * GIB / 10, 80), h1, "pool-service");
        for (String c : v1) {
            emit(created(c, tank, h1), h1, "crypto-device-service");
            emit(
                    new ChunkAttached(c, tank, h1, "nbd://127.0.0.1:10810/" + c),
                    h1,
                    "crypto-device-service");
        }
        emit(
                new PoolGrown(
                        tank,
                        h1,
                        1,
                        Layout.RAIDZ2,
                        v1,
                        2 * GIB,
                        4 * GIB,
                        GrowthTrigger.CAPACITY_ALERT),
                h1,
                "pool-service");
        emit(new SyncStarted(tank, h1, 2, TARGET), h1, "sync-service");
        emit(
                new ChunkSynced(id("c5"), tank, h1, 2, TARGET, GIB, "sha256:c5", 90),
                h1,
                "sync-service");
        emit(new ChunkSynced(id("c1"), tank, h1, 2, TARGET, 0, "sha256:c1", 5), h1, "sync-service");
        emit(new SyncFailed(tank, h1, 2, TARGET, "target full"), h1, "sync-service");
        emit(new ChunkFailed(id("c3"), tank, h1, null, "I/O error"), h1, "crypto-device-service");
        emit(
                new PoolHealthChanged(tank, h1, Health.ONLINE, Health.DEGRADED, "c3 faulted"),
                h1,
                "pool-service");

        List<String> s0 = List.of(id("s1"), id("s2"), id("s3"), id("s4"));
        for (String c : s0) {
            emit(created(c, scratch, h2), h2, "crypto-device-service");
        }
        emit(
                new PoolCreated(
                        scratch, h2, "scratch", Layout.RAIDZ2, 4, List.of(s0), GIB, 2 * GIB),
                h2,
                "pool-service");
        emit(new PoolDestroyed(scratch, h2, "scratch"), h2, "pool-service");
        for (String c : s0) {
            emit(new ChunkDestroyed(c, scratch, h2), h2, "crypto-device-service");
        }

        emit(new RestoreStarted(tank, h2, 1, TARGET), h2, "sync-service");
        emit(new ChunkRestored(id("c1"), tank, h2, 1, false), h2, "sync-service");
        emit(new ChunkRestored(id("c3"), tank, h2, 1, true), h2, "sync-service");
        emit(new RestoreCompleted(tank, h2, 1, 4, 1, 900), h2, "sync-service");
        emit(new RestoreStarted(tank, h2, 2, TARGET), h2, "sync-service");
        emit(
                new RestoreFailed(tank, h2, 2, TARGET, "import", "pool-service answered 409"),
                h2,
                "sync-service");
    }

    String id(String name) {
        return name + suffix;
    }

    /** The events of each topic in the order they were written. */
    Map<String, List<CloudEvent>> byTopic() {
        return byTopic;
    }

    List<CloudEvent> inOrder() {
        return all;
    }

    /** The events of one pool, in the order they were written. */
    List<CloudEvent> ofPool(String poolId) {
        return all.stream().filter(e -> poolId.equals(e.data().poolId())).toList();
    }

    private ChunkCreated created(String chunk, String pool, String host) {
        return new ChunkCreated(
                chunk,
                pool,
                host,
                "/var/szpool/chunks/" + chunk,
                GIB,
                true,
                Cipher.AES_XTS_PLAIN64,
                pool + "/" + chunk,
                Driver.EMBEDDED);
    }

    private void emit(Event data, String host, String service) {
        CloudEvent event =
                new CloudEvent(
                        id("e" + all.size()),
                        URI.create("/hosts/" + host + "/" + service),
                        EventTypes.typeOf(data.getClass()),
                        data.poolId(),
                        T0.plusSeconds(60L * all.size()),
                        data);
        all.add(event);
        byTopic.computeIfAbsent(event.topic(), t -> new ArrayList<>()).add(event);
    }

    static List<String> topics() {
        return List.of(
                Topics.DEVICE_EVENTS, Topics.POOL_EVENTS, Topics.SYNC_EVENTS, Topics.COMMANDS);
    }
}
