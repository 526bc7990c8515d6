package io.szpool.device.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Whether this machine can run the linux driver for real: the kernel features first (device-mapper
 * registered, the crypt target loaded or loadable, loop devices), then the tools and root. An
 * installed cryptsetup alone proves nothing: containers and VMs often ship the tools without the
 * kernel parts.
 */
final class KernelDmCrypt {
    private KernelDmCrypt() {}

    /** Empty when dm-crypt can be used here, else why not. */
    static Optional<String> whyNot() {
        if (!kernelHasDeviceMapper()) {
            return Optional.of(
                    "the kernel has no device-mapper (no 'device-mapper' in /proc/misc, no"
                            + " /sys/module/dm_mod)");
        }
        if (!kernelHasCryptTarget()) {
            return Optional.of(
                    "the kernel has no dm-crypt target (no /sys/module/dm_crypt and no dm-crypt"
                            + " module under /lib/modules/"
                            + release()
                            + ")");
        }
        if (!Files.exists(Path.of("/dev/mapper/control"))) {
            return Optional.of(
                    "device-mapper is in the kernel but /dev/mapper/control is missing (dmsetup"
                            + " mknodes creates it)");
        }
        if (!Files.exists(Path.of("/dev/loop-control"))) {
            return Optional.of("no loop devices (/dev/loop-control is missing)");
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/cryptsetup"))
                && !Files.isExecutable(Path.of("/sbin/cryptsetup"))) {
            return Optional.of("cryptsetup is not installed (apt-get install cryptsetup-bin)");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("dm-crypt and losetup need root");
        }
        return Optional.empty();
    }

    private static boolean kernelHasDeviceMapper() {
        return Files.isDirectory(Path.of("/sys/module/dm_mod"))
                || linesOf(Path.of("/proc/misc")).anyMatch(l -> l.endsWith(" device-mapper"));
    }

    private static boolean kernelHasCryptTarget() {
        if (Files.isDirectory(Path.of("/sys/module/dm_crypt"))) {
            return true;
        }
        // Not loaded yet, but cryptsetup's first open loads it through the kernel's modprobe.
        Path modules = Path.of("/lib/modules", release(), "kernel", "drivers", "md");
        if (!Files.isDirectory(modules)) {
            return false;
        }
        try (Stream<Path> files = Files.list(modules)) {
            return files.anyMatch(p -> p.getFileName().toString().startsWith("dm-crypt.ko"));
        } catch (IOException e) {
            return false;
        }
    }

    private static String release() {
        return System.getProperty("os.version");
    }

    private static Stream<String> linesOf(Path file) {
        try {
            return Files.readAllLines(file).stream().map(String::strip);
        } catch (IOException e) {
            return Stream.empty();
        }
    }
}
