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
import org.jboss.logging.Logger;

/**
 * The master keys of the pools on this host. Each lives on disk only in its key slot, wrapped by
 * the passphrase; an opened key stays in memory while the service runs, because every attached
 * device needs it, and is wiped on shutdown.
 */
@ApplicationScoped
public class PoolKeyring {
    private static final Logger LOG = Logger.getLogger(PoolKeyring.class);
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
                key = unlock(poolId, secret);
            } else if (create) {
                key = MasterKey.generate();
                Files.createDirectories(folder);
                KeySlot.seal(key, secret).write(slotFile);
            } else {
                throw noSlot(poolId);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the key slot " + slotFile, e);
        } finally {
            Arrays.fill(secret, '\0');
        }
        open.put(poolId, key);
        return key;
    }

    /**
     * A pool's key slot from elsewhere (a restored backup), opened with this service's passphrase:
     * its key id, and whether this host still needs it installed.
     */
    public record ForeignSlot(String poolId, String keyId, boolean install, KeySlot slot) {}

    /**
     * Opens a restored key slot without installing it: 403 when this service's passphrase does not
     * open it, 400 when it is damaged beyond repair, 409 when this host has a slot for the pool
     * that holds a different master key.
     */
    public synchronized ForeignSlot openForeign(String poolId, Path file) {
        char[] secret = passphrase.read();
        try {
            KeySlot slot = KeySlot.read(file);
            try (MasterKey key = slot.unlock(secret).masterKey()) {
                if (!Files.exists(slotFile(poolId))) {
                    return new ForeignSlot(poolId, key.keyId(), true, slot);
                }
                String here = masterKey(poolId, false).keyId();
                if (!here.equals(key.keyId())) {
                    throw ProblemException.conflict(
                            "pool "
                                    + poolId
                                    + " has a key slot on this host with key "
                                    + here
                                    + ", the restored slot holds key "
                                    + key.keyId()
                                    + ": these are different pools under one id");
                }
                return new ForeignSlot(poolId, key.keyId(), false, slot);
            }
        } catch (WrongPassphraseException e) {
            throw new ProblemException(
                    403,
                    "Forbidden",
                    "this service's passphrase does not open the restored key slot of pool "
                            + poolId
                            + "; nothing was adopted");
        } catch (CorruptKeySlotException e) {
            throw ProblemException.badRequest(
                    "the restored key slot "
                            + file
                            + " is damaged beyond repair: "
                            + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the key slot " + file, e);
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    /** Makes a restored slot this host's slot of its pool, unless the host has one already. */
    public synchronized void install(ForeignSlot foreign) {
        if (!foreign.install() || Files.exists(slotFile(foreign.poolId()))) {
            return;
        }
        try {
            Files.createDirectories(folder);
            foreign.slot().write(slotFile(foreign.poolId()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install the key slot of " + foreign.poolId(), e);
        }
        // Opens it from disk the usual way, which also rewrites a slot with one damaged copy.
        masterKey(foreign.poolId(), false);
        LOG.infof("installed the restored key slot of pool %s", foreign.poolId());
    }

    /** Removes a slot that {@link #install} put here, when the adoption it served failed. */
    public synchronized void uninstall(ForeignSlot foreign) {
        if (!foreign.install()) {
            return;
        }
        MasterKey key = open.remove(foreign.poolId());
        if (key != null) {
            key.close();
        }
        try {
            Files.deleteIfExists(slotFile(foreign.poolId()));
        } catch (IOException e) {
            LOG.errorf(
                    "cannot remove the key slot of pool %s: %s", foreign.poolId(), e.getMessage());
        }
    }

    /** The chunk's XTS key; the caller closes it when the device is gone. */
    public XtsKey chunkKey(String poolId, String chunkId) {
        return ChunkKeys.derive(masterKey(poolId, false), chunkId);
    }

    /** What a key slot check found. */
    public record SlotCheck(String keyId, boolean repaired) {}

    /**
     * Opens the pool's slot from disk with the configured passphrase (not from memory), so the
     * operator learns whether a restart would open it; a damaged copy is rewritten.
     */
    public synchronized SlotCheck verify(String poolId) {
        requireSlot(poolId);
        char[] secret = passphrase.read();
        try {
            KeySlot.Unlocked unlocked = unlockSlot(poolId, secret);
            try (MasterKey key = unlocked.masterKey()) {
                if (unlocked.damaged()) {
                    repair(poolId, key, secret);
                }
                return new SlotCheck(key.keyId(), unlocked.damaged());
            }
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    /**
     * Re-wraps the pool's master key under a new passphrase; chunk data is untouched and the key
     * (so its keyId and every chunk key) stays the same. The new slot is opened with the new
     * passphrase before it replaces the old one, atomically: a failure leaves the old slot.
     */
    public synchronized SlotCheck changePassphrase(
            String poolId, char[] oldPassphrase, char[] newPassphrase) {
        requireSlot(poolId);
        if (Arrays.equals(oldPassphrase, newPassphrase)) {
            throw ProblemException.badRequest(
                    "the new passphrase is the same as the old one; nothing to change");
        }
        Path slotFile = slotFile(poolId);
        KeySlot.Unlocked unlocked = unlockSlot(poolId, oldPassphrase);
        try (MasterKey key = unlocked.masterKey()) {
            KeySlot sealed = KeySlot.seal(key, newPassphrase);
            try (MasterKey check = sealed.unlock(newPassphrase).masterKey()) {
                if (!check.keyId().equals(key.keyId())) {
                    throw new IllegalStateException("the new key slot does not hold the pool key");
                }
            }
            sealed.write(slotFile);
            LOG.infof(
                    "key slot of pool %s re-wrapped under a new passphrase (key %s)",
                    poolId, key.keyId());
            return new SlotCheck(key.keyId(), unlocked.damaged());
        } catch (WrongPassphraseException | CorruptKeySlotException e) {
            throw new IllegalStateException("a key slot just sealed does not open", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the key slot " + slotFile, e);
        }
    }

    /**
     * The slot's bytes as stored: without the passphrase they are random-looking bytes, safe to
     * keep next to the chunks on a backup target.
     */
    public byte[] exportSlot(String poolId) {
        requireSlot(poolId);
        Path slotFile = slotFile(poolId);
        try {
            return KeySlot.read(slotFile).toBytes();
        } catch (CorruptKeySlotException e) {
            throw damaged(poolId, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the key slot " + slotFile, e);
        }
    }

    public Path slotFile(String poolId) {
        return folder.resolve(poolId + ".slot");
    }

    private MasterKey unlock(String poolId, char[] secret) {
        KeySlot.Unlocked unlocked = unlockSlot(poolId, secret);
        if (unlocked.damaged()) {
            repair(poolId, unlocked.masterKey(), secret);
        }
        return unlocked.masterKey();
    }

    private KeySlot.Unlocked unlockSlot(String poolId, char[] secret) {
        Path slotFile = slotFile(poolId);
        try {
            return KeySlot.read(slotFile).unlock(secret);
        } catch (WrongPassphraseException e) {
            throw new ProblemException(
                    403,
                    "Forbidden",
                    "the passphrase does not open the key slot of pool " + poolId);
        } catch (CorruptKeySlotException e) {
            throw damaged(poolId, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the key slot " + slotFile, e);
        }
    }

    /** One copy of the slot did not open: seal the key afresh so the slot has two good copies. */
    private void repair(String poolId, MasterKey key, char[] secret) {
        try {
            KeySlot.seal(key, secret).write(slotFile(poolId));
            LOG.warnf(
                    "the key slot of pool %s had a damaged copy; rewritten with two good copies",
                    poolId);
        } catch (IOException e) {
            LOG.errorf(
                    "the key slot of pool %s has a damaged copy and cannot be rewritten: %s",
                    poolId, e.getMessage());
        }
    }

    /** 404 unless the pool has a key slot on this host. */
    public void requireSlot(String poolId) {
        if (!Files.exists(slotFile(poolId))) {
            throw noSlot(poolId);
        }
    }

    private static ProblemException noSlot(String poolId) {
        return ProblemException.notFound("pool " + poolId + " has no key slot on this host");
    }

    private static ProblemException damaged(String poolId, CorruptKeySlotException e) {
        return new ProblemException(
                500,
                "Internal Server Error",
                "the key slot of pool "
                        + poolId
                        + " is damaged beyond repair: "
                        + e.getMessage()
                        + "; restore it from an exported copy");
    }

    @PreDestroy
    synchronized void wipe() {
        open.values().forEach(MasterKey::close);
        open.clear();
    }
}
