package io.szpool.device.config;

import io.smallrye.config.ConfigMapping;
import java.nio.file.Path;

/** Where this host keeps its chunks. */
@ConfigMapping(prefix = "szpool.device")
public interface DeviceConfig {

    /** The folder that holds this host's chunk files; created on first use. */
    Path dataDir();
}
