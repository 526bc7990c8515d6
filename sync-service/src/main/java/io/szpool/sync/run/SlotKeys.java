package io.szpool.sync.run;

import io.szpool.crypto.CorruptKeySlotException;
import io.szpool.crypto.KeySlot;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.WrongPassphraseException;
import io.szpool.sync.generation.TargetKeys;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Target keys by key slot: a slot is opened with the passphrase once (Argon2id, about half a
 * second), its master key turned into target keys and wiped; the target keys stay in memory while
 * the service runs. A slot the passphrase does not open belongs to someone else.
 */
@ApplicationScoped
public class SlotKeys {
    private static final Logger LOG = Logger.getLogger(SlotKeys.class);
    private final Passphrase passphrase;
    private final Map<String, Optional<TargetKeys>> bySlot = new ConcurrentHashMap<>();

    public SlotKeys(Passphrase passphrase) {
        this.passphrase = passphrase;
    }

    /** The target keys of the pool whose master key this slot wraps, if the passphrase opens it. */
    public Optional<TargetKeys> keysFor(byte[] slot) {
        return bySlot.computeIfAbsent(fingerprint(slot), f -> open(slot));
    }

    private Optional<TargetKeys> open(byte[] slot) {
        char[] secret = passphrase.read();
        try {
            KeySlot.Unlocked unlocked = KeySlot.fromBytes(slot).unlock(secret);
            if (unlocked.damaged()) {
                LOG.warn("a key slot opened from its second copy only; the first is damaged");
            }
            try (MasterKey master = unlocked.masterKey()) {
                return Optional.of(TargetKeys.of(master));
            }
        } catch (WrongPassphraseException | CorruptKeySlotException e) {
            return Optional.empty();
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    private static String fingerprint(byte[] slot) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(slot));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @PreDestroy
    void wipe() {
        bySlot.values().forEach(k -> k.ifPresent(TargetKeys::close));
        bySlot.clear();
    }
}
