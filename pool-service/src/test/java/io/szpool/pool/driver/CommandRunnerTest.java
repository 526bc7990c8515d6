package io.szpool.pool.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.szpool.pool.driver.CommandRunner.CommandException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** zpool failures reach the caller as messages that say what ran and what it said. */
class CommandRunnerTest {
    private final CommandRunner runner = new CommandRunner(Duration.ofSeconds(30));

    @Test
    void keepsStdoutOfASuccessfulCommand() throws Exception {
        assertEquals("tank\n", runner.run(List.of("printf", "tank\\n")).stdout());
    }

    @Test
    void aNonZeroExitQuotesTheCommandAndItsStderr() {
        CommandException e =
                assertThrows(
                        CommandException.class,
                        () ->
                                runner.run(
                                        List.of(
                                                "sh",
                                                "-c",
                                                "echo \"cannot open 'tank': no such pool\" >&2;"
                                                        + " exit 1")));
        assertEquals(1, e.exitCode());
        assertTrue(e.getMessage().contains("exited with 1"), e.getMessage());
        assertTrue(e.getMessage().endsWith("cannot open 'tank': no such pool"), e.getMessage());
    }

    @Test
    void aMissingCommandSaysItCannotRun() {
        CommandException e =
                assertThrows(
                        CommandException.class,
                        () -> runner.run(List.of("/nonexistent/zpool", "list")));
        assertEquals(-1, e.exitCode());
        assertTrue(e.getMessage().contains("cannot run it"), e.getMessage());
    }

    @Test
    void aHangingCommandIsKilledAtTheTimeout() {
        CommandRunner quick = new CommandRunner(Duration.ofMillis(200));
        CommandException e =
                assertThrows(CommandException.class, () -> quick.run(List.of("sleep", "30")));
        assertTrue(e.getMessage().contains("no answer within"), e.getMessage());
    }

    @Test
    void theZfsDriverRefusesNbdAddresses() {
        ZfsDriver zfs = new ZfsDriver(runner, "/nonexistent/zpool", Path.of("/dev/mapper"));
        Exception e =
                assertThrows(
                        java.io.IOException.class,
                        () -> zfs.create("tank", List.of(List.of("nbd://127.0.0.1:10810/c0"))));
        assertTrue(e.getMessage().contains("block device paths"), e.getMessage());
    }
}
