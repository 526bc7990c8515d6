package io.szpool.device.api;

import io.smallrye.common.annotation.Blocking;
import io.szpool.device.chunk.ChunkSpec;
import io.szpool.device.key.Passphrase;
import io.szpool.device.key.PoolKeyring;
import io.szpool.device.key.PoolKeyring.SlotCheck;
import io.szpool.service.ProblemException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Arrays;

/**
 * REST API of the pools' key slots on this host: export, check, passphrase change. Passphrases
 * never travel in a body: a request names files on this host, which the operator writes (mode 0600)
 * and removes afterwards. Argon2id takes a while and files are read: worker threads.
 */
@Path("/keys/{poolId}")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class KeyResource {
    private final PoolKeyring keys;
    private final Passphrase passphrase;

    public KeyResource(PoolKeyring keys, Passphrase passphrase) {
        this.keys = keys;
        this.passphrase = passphrase;
    }

    /**
     * The body of {@code POST /keys/{poolId}/passphrase}: where the old and the new passphrase are.
     * An absent file means the configured source ({@code szpool.device.passphrase-file} or {@code
     * SZPOOL_PASSPHRASE}); at least one must be given.
     */
    public record PassphraseChange(String oldPassphraseFile, String newPassphraseFile) {}

    /** What a slot operation did; never key material. */
    public record SlotView(String poolId, String keyId, boolean repaired) {
        static SlotView of(String poolId, SlotCheck check) {
            return new SlotView(poolId, check.keyId(), check.repaired());
        }
    }

    /**
     * Re-wraps the pool's master key under a new passphrase. Either name the new passphrase's file
     * (then put it in the configured file afterwards), or replace the configured file first and
     * name the old passphrase's file.
     */
    @POST
    @Path("/passphrase")
    @Consumes(MediaType.APPLICATION_JSON)
    public SlotView changePassphrase(@PathParam("poolId") String poolId, PassphraseChange body) {
        ChunkSpec.requirePoolId(poolId);
        keys.requireSlot(poolId);
        if (body == null || (blank(body.oldPassphraseFile()) && blank(body.newPassphraseFile()))) {
            throw ProblemException.badRequest(
                    "name newPassphraseFile (a 0600 file on this host holding the new passphrase),"
                            + " or replace the configured passphrase file first and name"
                            + " oldPassphraseFile; passphrases never travel in a request");
        }
        char[] oldSecret = null;
        char[] newSecret = null;
        try {
            oldSecret =
                    blank(body.oldPassphraseFile())
                            ? passphrase.read()
                            : passphrase.readOperatorFile(
                                    body.oldPassphraseFile(), "oldPassphraseFile");
            newSecret =
                    blank(body.newPassphraseFile())
                            ? passphrase.read()
                            : passphrase.readOperatorFile(
                                    body.newPassphraseFile(), "newPassphraseFile");
            return SlotView.of(poolId, keys.changePassphrase(poolId, oldSecret, newSecret));
        } finally {
            wipe(oldSecret);
            wipe(newSecret);
        }
    }

    /**
     * The wrapped key slot for safekeeping: 152 random-looking bytes, useless without the
     * passphrase.
     */
    @GET
    @Path("/slot")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public Response exportSlot(@PathParam("poolId") String poolId) {
        ChunkSpec.requirePoolId(poolId);
        return Response.ok(keys.exportSlot(poolId))
                .header("Content-Disposition", "attachment; filename=\"" + poolId + ".slot\"")
                .build();
    }

    /** Opens the slot from disk with the configured passphrase; a damaged copy is rewritten. */
    @POST
    @Path("/verify")
    public SlotView verify(@PathParam("poolId") String poolId) {
        ChunkSpec.requirePoolId(poolId);
        return SlotView.of(poolId, keys.verify(poolId));
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static void wipe(char[] secret) {
        if (secret != null) {
            Arrays.fill(secret, '\0');
        }
    }
}
