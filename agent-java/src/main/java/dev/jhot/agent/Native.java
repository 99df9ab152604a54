package dev.jhot.agent;

import java.io.IOException;

/**
 * The methods of libjhot_jni.so (native/jni). Kept free of other agent classes: the native crate's
 * own tests compile this file alone against the library. Public for send_fds.
 */
public final class Native {
    private Native() {
    }

    /**
     * Connects to the Unix stream socket at socketPath and sends one message: the fd count as a
     * little-endian u32, with all fds attached (SCM_RIGHTS, at most 32). Returns the count.
     * IOException: an fd is not open, or connecting/sending failed (the message says which);
     * IllegalArgumentException: no fds or more than 32.
     */
    public static native int sendFds(String socketPath, int[] fds) throws IOException;
}
