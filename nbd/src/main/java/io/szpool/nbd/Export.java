package io.szpool.nbd;

/** A named device as a server offers it, with its metrics and announced transmission flags. */
record Export(String name, BlockDevice device, ExportMetrics metrics) {

    Export(String name, BlockDevice device) {
        this(name, device, new ExportMetrics());
    }

    /** The flags we announce: only what we really do. */
    int transmissionFlags() {
        int flags = Protocol.TFLAG_HAS_FLAGS;
        if (device.readOnly()) {
            flags |= Protocol.TFLAG_READ_ONLY;
        } else {
            flags |= Protocol.TFLAG_SEND_FLUSH | Protocol.TFLAG_SEND_FUA;
            flags |= Protocol.TFLAG_SEND_WRITE_ZEROES;
            if (device.canTrim()) {
                flags |= Protocol.TFLAG_SEND_TRIM;
            }
        }
        if (device.sharedCache()) {
            flags |= Protocol.TFLAG_CAN_MULTI_CONN;
        }
        return flags;
    }
}
