package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.szpool.crypto.ChunkKeys;
import io.szpool.crypto.CorruptKeySlotException;
import io.szpool.crypto.KeySlot;
import io.szpool.crypto.MasterKey;
import io.szpool.crypto.WrongPassphraseException;
import io.szpool.crypto.XtsKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Key commands. They read the host's data folder directly, so they work with every service down.
 */
@Command(
        name = "key",
        description = "Chunk keys, for recovery with standard tools.",
        mixinStandardHelpOptions = true,
        subcommands = KeyCommand.Dump.class)
final class KeyCommand extends CommandGroup {
    @Command(
            name = "dump",
            mixinStandardHelpOptions = true,
            description = {
                "Prints a chunk's 512-bit AES-XTS key in hex: what cryptsetup needs to open the chunk"
                        + " file without szpool:",
                "  szpool key dump ID | xxd -r -p > K",
                "  cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512"
                        + " --sector-size 4096 --key-file K CHUNK_FILE NAME"
            })
    static final class Dump implements Callable<Integer> {
        private static final Pattern SAFE_NAME =
                Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

        @Spec CommandSpec spec;

        @Parameters(
                paramLabel = "CHUNK_ID",
                description = "The chunk, as `szpool chunk list` shows it.")
        String chunkId;

        @Option(
                names = "--data",
                defaultValue = "${env:SZPOOL_DEVICE_DATA:-${sys:szpool.data:-var}/crypto-device}",
                description = "The crypto-device-service data folder (default: ${DEFAULT-VALUE}).")
        Path data;

        @Option(
                names = "--pool",
                description = "The chunk's pool id; read from the chunk's record when absent.")
        String pool;

        @Option(
                names = "--slot",
                description = "The pool's key slot file; default DATA/keys/POOL.slot.")
        Path slot;

        @Option(
                names = "--passphrase-file",
                description = "First line is the passphrase; else $SZPOOL_PASSPHRASE or a prompt.")
        Path passphraseFile;

        @Override
        public Integer call() {
            requireSafe(chunkId, "chunk id");
            String poolId = pool != null ? pool : poolOfChunk();
            requireSafe(poolId, "pool id");
            Path slotFile = slot != null ? slot : data.resolve("keys").resolve(poolId + ".slot");
            char[] passphrase = PassphraseInput.read(passphraseFile);
            try (MasterKey master = KeySlot.read(slotFile).unlock(passphrase).masterKey();
                    XtsKey key = ChunkKeys.derive(master, chunkId)) {
                spec.commandLine().getOut().println(key.hex());
                spec.commandLine().getOut().flush();
                return 0;
            } catch (WrongPassphraseException e) {
                throw new CliException("the passphrase does not open the key slot " + slotFile);
            } catch (CorruptKeySlotException e) {
                throw new CliException(
                        "the key slot " + slotFile + " is damaged: " + e.getMessage());
            } catch (java.nio.file.NoSuchFileException e) {
                throw new CliException("no key slot at " + slotFile + " (give --data or --slot)");
            } catch (IOException e) {
                throw new CliException(
                        "cannot read the key slot " + slotFile + ": " + e.getMessage());
            } finally {
                Arrays.fill(passphrase, '\0');
            }
        }

        private String poolOfChunk() {
            Path record = data.resolve("records").resolve(chunkId + ".json");
            if (!Files.isRegularFile(record)) {
                throw new CliException(
                        "no chunk "
                                + chunkId
                                + " in "
                                + data
                                + " (give --data, or --pool with --slot)");
            }
            try {
                JsonNode node = new ObjectMapper().readTree(record.toFile());
                JsonNode poolId = node.get("poolId");
                if (poolId == null || !poolId.isTextual()) {
                    throw new CliException("the record " + record + " names no pool");
                }
                return poolId.asText();
            } catch (IOException e) {
                throw new CliException("cannot read the record " + record + ": " + e.getMessage());
            }
        }

        private static void requireSafe(String value, String what) {
            if (!SAFE_NAME.matcher(value).matches()) {
                throw new CliException(
                        "not a valid " + what + ": " + value, CliException.BAD_INPUT);
            }
        }
    }
}
