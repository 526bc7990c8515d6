package io.szpool.events;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The closed vocabularies that events use, spelled on the wire as SPEC.md spells them. */
public final class Vocabulary {
    private Vocabulary() {}

    /** How a chunk's device encrypts. */
    public enum Cipher {
        @JsonProperty("aes-xts-plain64")
        AES_XTS_PLAIN64,
        @JsonProperty("aes-256-cbc")
        AES_256_CBC
    }

    /** Which world a host service runs in. */
    public enum Driver {
        @JsonProperty("embedded")
        EMBEDDED,
        @JsonProperty("linux")
        LINUX,
        @JsonProperty("solaris")
        SOLARIS
    }

    /** Why a pool grew. */
    public enum GrowthTrigger {
        @JsonProperty("operator")
        OPERATOR,
        @JsonProperty("capacity-alert")
        CAPACITY_ALERT
    }

    /** A pool's health, with the names `zpool status` uses. */
    public enum Health {
        ONLINE,
        DEGRADED,
        FAULTED,
        UNAVAIL
    }

    /** The redundancy of a vdev. */
    public enum Layout {
        @JsonProperty("raidz2")
        RAIDZ2
    }
}
