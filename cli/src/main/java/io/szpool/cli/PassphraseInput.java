package io.szpool.cli;

import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the CLI gets the operator's passphrase: a file, the environment, or a prompt, in that
 * order.
 */
final class PassphraseInput {
    static final String ENV = "SZPOOL_PASSPHRASE";

    private PassphraseInput() {}

    static char[] read(Path file) {
        if (file != null) {
            try {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                if (lines.isEmpty() || lines.get(0).isEmpty()) {
                    throw new CliException("the passphrase file " + file + " is empty");
                }
                return lines.get(0).toCharArray();
            } catch (IOException e) {
                throw new CliException(
                        "cannot read the passphrase file " + file + ": " + e.getMessage());
            }
        }
        String env = System.getenv(ENV);
        if (env != null && !env.isEmpty()) {
            return env.toCharArray();
        }
        Console console = System.console();
        if (console == null) {
            throw new CliException(
                    "no passphrase: give --passphrase-file, set " + ENV + ", or run on a terminal");
        }
        char[] typed = console.readPassword("Passphrase: ");
        if (typed == null || typed.length == 0) {
            throw new CliException("no passphrase given");
        }
        return typed;
    }
}
