package io.szpool.device.driver;

import io.szpool.device.config.DeviceConfig;
import io.szpool.device.device.DeviceExports;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

/** Picks this host's device driver from {@code szpool.device.driver}. */
@ApplicationScoped
public class DeviceDrivers {

    @Produces
    @ApplicationScoped
    DeviceDriver driver(DeviceConfig config, DeviceExports embedded) {
        CommandRunner commands = new CommandRunner(config.commandTimeout());
        return switch (config.driver()) {
            case EMBEDDED -> embedded;
            case LINUX -> new LinuxDriver(commands);
            case SOLARIS ->
                    new SolarisDriver(commands, config.dataDir().toAbsolutePath().resolve("keys"));
        };
    }
}
