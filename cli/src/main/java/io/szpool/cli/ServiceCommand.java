package io.szpool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every command that asks a service shares: where the services are, --json, printing the
 * answer, and long requests with progress. A command only says what it asks and how a person reads
 * the answer.
 */
abstract class ServiceCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Endpoints endpoints;

    @Option(names = "--json", description = "The service's JSON answer, unchanged.")
    boolean json;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** The answer as its JSON with --json, else as the one line a person reads. */
    void printLine(JsonNode answer, Function<JsonNode, String> line) {
        print(answer, (out, a) -> out.println(line.apply(a)));
    }

    /** The answer as its JSON with --json, else as the text (a table, a status) it writes. */
    void print(JsonNode answer, BiConsumer<PrintWriter, JsonNode> text) {
        if (json) {
            out().println(answer.toString());
        } else {
            text.accept(out(), answer);
        }
        out().flush();
    }

    /**
     * An option that takes one of a few words: anything else is bad input, named with the words.
     */
    static String checkOneOf(String option, String value, List<String> words) {
        if (value != null && !words.contains(value)) {
            throw new CliException(
                    option + " must be one of " + String.join(", ", words) + ", not " + value,
                    CliException.BAD_INPUT);
        }
        return value;
    }

    /** A POST that does long work: on a terminal, a live line with what {@code poll} says. */
    JsonNode longPost(String label, Supplier<String> poll, Rest service, String path, Object body) {
        return Progress.run(err(), label, poll, () -> service.post(path, body));
    }
}
