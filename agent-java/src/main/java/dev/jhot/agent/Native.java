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

    /**
     * Fences each listener fds[i] (if it still is the socket with inode inodes[i]): this JVM stops
     * taking connections from it while the socket, shared with a successor, keeps listening.
     * Three numbers per descriptor: status (0 fenced, 1 gone, 2 not listening, -errno), threads
     * woken from a blocked accept, threads left blocked. IllegalArgumentException: the arrays differ
     * in length or hold more than 32.
     */
    public static native long[] fence(int[] fds, long[] inodes);
}
