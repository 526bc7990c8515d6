package io.szpool.nbd;

/** The error values the NBD protocol allows on the wire, with their errno numbers. */
public enum NbdError {
    EPERM(1),
    EIO(5),
    ENOMEM(12),
    EINVAL(22),
    ENOSPC(28),
    EOVERFLOW(75),
    ENOTSUP(95),
    ESHUTDOWN(108);

    private final int code;

    NbdError(int code) {
        this.code = code;
    }

    /** The value sent in a reply's error field. */
    public int code() {
        return code;
    }

    /** Maps a received error value; the spec says to treat unknown values as EINVAL. */
    public static NbdError fromCode(int code) {
        for (NbdError e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return EINVAL;
    }
}
