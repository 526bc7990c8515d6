package io.szpool.device.key;

import io.szpool.crypto.ChunkKeys;
import io.szpool.crypto.CorruptKeySlotException;
import io.szpool.crypto.KeySlot;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.WrongPassphraseException;
import io.szpool.crypto.XtsKey;
import io.szpool.device.config.DeviceConfig;
import io.szpool.service.ProblemException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The master keys of the pools on this host. Each lives on disk only in its key slot, wrapped by
 * the passphrase; an opened key stays in memory while the service runs, because every attached
 * device needs it, and is wiped on shutdown.
 */
@ApplicationScoped
public class PoolKeyring {
    private final Path folder;
    private final Passphrase passphrase;
    private final Map<String, MasterKey> open = new HashMap<>();

    public PoolKeyring(DeviceConfig config, Passphrase passphrase) {
        this.folder = config.dataDir().toAbsolutePath().resolve("keys");
        this.passphrase = passphrase;
    }

    /** The pool's master key, creating the pool's key slot on its first chunk. */
    public synchronized MasterKey masterKey(String poolId, boolean create) {
        MasterKey key = open.get(poolId);
        if (key != null) {
            return key;
        }
        Path slotFile = slotFile(poolId);
        char[] secret = passphrase.read();
        try {
            if (Files.exists(slotFile)) {
                key = KeySlot.read(slotFile).unlock(secret).masterKey();
            } else if (create) {
                key = MasterKey.generate();
                Files.createDirectories(folder);
                KeySlot.seal(key, secret).write(slotFile);
            } else {
                throw ProblemException.notFound("pool " + poolId + " has no key slot on this host");
            }
        } catch (WrongPassphraseException e) {
            throw new ProblemException(
                    403,
                    "Forbidden",
                    "the passphrase does not open the key slot of pool " + poolId);
        } catch (CorruptKeySlotException e) {
            throw new ProblemException(
                    500,
                    "Internal Server Error",
                    "the key slot of pool " + poolId + " is damaged: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the key slot " + slotFile, e);
        } finally {
            Arrays.fill(secret, '\0');
        }
        open.put(poolId, key);
        return key;
    }

    /** The chunk's XTS key; the caller closes it when the device is gone. */
    public XtsKey chunkKey(String poolId, String chunkId) {
        return ChunkKeys.derive(masterKey(poolId, false), chunkId);
    }

    public Path slotFile(String poolId) {
        return folder.resolve(poolId + ".slot");
    }

    @PreDestroy
    synchronized void wipe() {
        open.values().forEach(MasterKey::close);
        open.clear();
    }
}
