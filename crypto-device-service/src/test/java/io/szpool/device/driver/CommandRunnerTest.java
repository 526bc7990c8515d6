package io.szpool.device.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runner against real processes: exit codes, stderr, stdin, timeouts. */
class CommandRunnerTest {
    private final CommandRunner runner = new CommandRunner(Duration.ofSeconds(30));

    @Test
    void collectsOutputAndExitCode() throws Exception {
        CommandRunner.Result r =
                runner.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), null);
        assertEquals(3, r.exitCode());
        assertEquals("out\n", r.stdout());
        assertEquals("err\n", r.stderr());
    }

    @Test
    void aFailureNamesTheCommandItsExitCodeAndItsStderr() {
        CommandFailedException e =
                assertThrows(
                        CommandFailedException.class,
                        () -> runner.check("sh", "-c", "echo 'no such device' >&2; exit 4"));
        assertEquals(4, e.exitCode());
        assertTrue(e.getMessage().contains("exited with 4: no such device"), e.getMessage());
    }

    @Test
    void secretsGoInOnStdinAndTheArrayIsWipedAfterwards() throws Exception {
        byte[] secret = "s3cret-key-bytes".getBytes(StandardCharsets.US_ASCII);
        CommandRunner.Result r = runner.check(List.of("od", "-An", "-c"), secret);
        assertTrue(r.stdout().replace(" ", "").contains("s3cret-key-bytes"), r.stdout());
        assertEquals(0, secret[0], "the caller's copy is wiped");
    }

    @Test
    void aCommandThatDoesNotExistIsAClearError() {
        CommandFailedException e =
                assertThrows(
                        CommandFailedException.class, () -> runner.check("no-such-command-here"));
        assertTrue(e.getMessage().startsWith("cannot run no-such-command-here"), e.getMessage());
    }

    @Test
    void aCommandThatFillsBothPipesDoesNotHang() throws Exception {
        CommandRunner.Result r =
                runner.check(
                        List.of(
                                "sh",
                                "-c",
                                "head -c 1000000 /dev/zero >&2; head -c 1000000 /dev/zero"),
                        null);
        assertEquals(1000000, r.stdout().length());
        assertEquals(1000000, r.stderr().length());
    }

    @Test
    void aCommandThatHangsIsStoppedAtTheTimeout() {
        CommandRunner quick = new CommandRunner(Duration.ofMillis(300));
        CommandFailedException e =
                assertThrows(CommandFailedException.class, () -> quick.check("sleep", "30"));
        assertTrue(e.getMessage().contains("did not finish within"), e.getMessage());
    }
}
