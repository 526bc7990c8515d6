package io.szpool.service;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Who this service is in the fleet. */
@ConfigMapping(prefix = "szpool")
public interface HostConfig {

    /** The host's id in the fleet: events carry it as source, commands are addressed to it. */
    @WithDefault("local")
    String hostId();
}
