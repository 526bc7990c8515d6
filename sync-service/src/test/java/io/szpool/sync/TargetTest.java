package io.szpool.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.szpool.sync.remote.Target;
import org.junit.jupiter.api.Test;

/** Target addresses: the three kinds, and no credential ever accepted into one. */
class TargetTest {

    @Test
    void parsesTheThreeKinds() {
        assertEquals(Target.Kind.LOCAL, Target.parse("/backup/x/").kind());
        assertEquals("/backup/x", Target.parse("/backup/x/").address());
        assertEquals(Target.Kind.DAEMON, Target.parse("rsync://u@host:8873/mod/p").kind());
        assertEquals(Target.Kind.DAEMON, Target.parse("rsync://host/mod").kind());
        assertEquals(Target.Kind.SSH, Target.parse("backup@host.example:pools/a").kind());
        assertEquals("rsync://host/mod/g1", Target.parse("rsync://host/mod/").resolve("g1"));
    }

    @Test
    void refusesPasswordsAndUnknownSchemes() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Target.parse("rsync://u:hunter2@host/mod/p"));
        assertFalse(e.getMessage().contains("hunter2"));
        assertThrows(IllegalArgumentException.class, () -> Target.parse("s3://bucket/x"));
        assertThrows(IllegalArgumentException.class, () -> Target.parse("relative/path"));
        assertThrows(IllegalArgumentException.class, () -> Target.parse(" "));
    }
}
