package io.szpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.szpool.cli.SzpoolCliTest.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The completion script as bash runs it: sourced, then asked what a half-typed line completes to.
 */
class CompletionIT {
    @TempDir Path dir;

    /**
     * What bash offers for the last word of {@code line} (the cursor at its end), through the
     * function the sourced script registered for {@code szpool} with {@code complete -F}.
     */
    List<String> complete(Path script, String line) throws Exception {
        Path probe = dir.resolve("probe.bash");
        Files.writeString(
                probe,
                String.join(
                        "\n",
                        "source \"$1\" || exit 2",
                        "fn=$(complete -p szpool | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')",
                        "[ -n \"$fn\" ] || { echo 'no complete -F for szpool' >&2; exit 3; }",
                        "COMP_LINE=\"$2\"",
                        "COMP_POINT=${#COMP_LINE}",
                        "read -ra COMP_WORDS <<< \"$COMP_LINE\"",
                        // A line ending in a space is about to type a new, empty word.
                        "[[ \"$COMP_LINE\" == *' ' ]] && COMP_WORDS+=('')",
                        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))",
                        // Outside a TAB press compopt complains and changes nothing; stderr is not
                        // read.
                        "\"$fn\" 2>/dev/null",
                        "printf '%s\\n' \"${COMPREPLY[@]}\""),
                StandardCharsets.UTF_8);
        Process bash =
                new ProcessBuilder(
                                "bash",
                                "--norc",
                                "--noprofile",
                                probe.toString(),
                                script.toString(),
                                line)
                        .redirectErrorStream(true)
                        .start();
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        bash.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, bash.exitValue(), out);
        return out.lines().filter(l -> !l.isEmpty()).sorted().toList();
    }

    Path script(String command) throws Exception {
        Run r = SzpoolCliTest.run(command);
        assertEquals(0, r.exit(), r.err());
        Path script = dir.resolve("szpool_completion");
        Files.writeString(script, r.out(), StandardCharsets.UTF_8);
        return script;
    }

    @Test
    void theScriptSourcesInBashAndCompletesSubcommandsAndOptions() throws Exception {
        Path script = script("completion");
        assertEquals(List.of("pool"), complete(script, "szpool po"));
        assertEquals(List.of("resize", "restore"), complete(script, "szpool re"));
        assertEquals(List.of("umount", "up"), complete(script, "szpool u"));
        assertEquals(List.of("down"), complete(script, "szpool do"));
        assertEquals(List.of("create"), complete(script, "szpool pool cr"));
        assertEquals(List.of("now"), complete(script, "szpool sync n"));
        assertEquals(List.of("--follow"), complete(script, "szpool events --fol"));
        assertEquals(
                List.of("create", "export", "grow", "import", "list", "scrub", "status"),
                complete(script, "szpool pool "));
    }

    @Test
    void picocliSNameForTheCommandPrintsTheSameScript() throws Exception {
        String viaAlias = Files.readString(script("completion"));
        assertEquals(viaAlias, Files.readString(script("generate-completion")));
    }
}
