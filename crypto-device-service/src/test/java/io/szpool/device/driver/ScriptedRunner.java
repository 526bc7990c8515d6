package io.szpool.device.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * A command runner that answers from a script: each expected command line with the transcript it
 * gets. Records every call with its stdin, so tests see exactly what would run.
 */
class ScriptedRunner extends CommandRunner {
    record Call(List<String> command, byte[] stdin) {}

    private record Step(List<String> command, Result result, Consumer<List<String>> check) {}

    private final Deque<Step> script = new ArrayDeque<>();
    final List<Call> calls = new ArrayList<>();

    ScriptedRunner() {
        super(Duration.ofSeconds(1));
    }

    ScriptedRunner expect(List<String> command, int exit, String stdout, String stderr) {
        return expect(command, new Result(exit, stdout, stderr), c -> {});
    }

    ScriptedRunner expect(List<String> command, Result result, Consumer<List<String>> check) {
        script.add(new Step(command, result, check));
        return this;
    }

    @Override
    public Result run(List<String> command, byte[] stdin) {
        calls.add(new Call(List.copyOf(command), stdin == null ? null : stdin.clone()));
        Step step = script.poll();
        assertTrue(step != null, "unexpected command " + command);
        if (step.command() != null) {
            assertEquals(step.command(), command);
        }
        step.check().accept(command);
        return step.result();
    }

    void assertDone() {
        assertTrue(script.isEmpty(), "commands never run: " + script);
    }

    static String transcript(String name) {
        try {
            return Files.readString(
                    Path.of("src/test/resources/transcripts", name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
