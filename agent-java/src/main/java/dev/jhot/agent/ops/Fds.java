package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Native;
import dev.jhot.agent.PrivateDir;
import dev.jhot.agent.Req;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

/**
 * {@code send_fds}: the JVM's descriptors passed to jhot over SCM_RIGHTS, through the JNI library
 * (Native). The library and the socket must be files of the agent's private directory.
 */
final class Fds {
    private static final Object nativeLock = new Object();
    /** The native library this JVM loaded, if any: a class loader can hold only one copy of it. */
    private static String nativeLib;

    private Fds() {
    }

    static void sendFds(Ops ops, Req req, Map<String, Object> out) throws Failure {
        int count = req.list("fds").size();
        if (count == 0 || count > 32) throw Failure.protocol("\"fds\" must hold 1 to 32 descriptors, not " + count);
        long[] numbers = req.longs("fds", 0, Integer.MAX_VALUE, "descriptor numbers");
        int[] fds = new int[numbers.length];
        for (int k = 0; k < fds.length; k++) fds[k] = (int) numbers[k];
        Path lib = inPrivateDir(ops, req, "lib");
        Path socket = inPrivateDir(ops, req, "socket");
        loadNative(lib);
        int sent;
        try {
            sent = Native.sendFds(socket.toString(), fds);
        } catch (IOException e) {
            throw new Failure("io", e.getMessage() != null ? e.getMessage() : Failure.describe(e), null);
        } catch (LinkageError | RuntimeException e) {
            // UnsatisfiedLinkError (a library without sendFds), or a Rust panic turned into a RuntimeException.
            throw new Failure("native", Failure.describe(e), null);
        }
        out.put("sent", sent);
    }

    /** The agent connects to, and loads, only files of its own private directory: nobody but its
     *  user (or root) can have put them there. */
    static Path inPrivateDir(Ops ops, Req req, String key) throws Failure {
        String v = req.string(key, "a path");
        Path dir = ops.privateDir;
        if (dir == null) throw new Failure("refused", "the agent has no private directory", null);
        Path p;
        try {
            p = Paths.get(v);
        } catch (InvalidPathException e) {
            throw new Failure("refused", key + " is not a valid path: " + e.getMessage(), null);
        }
        if (!p.isAbsolute() || !p.normalize().equals(p) || !dir.equals(p.getParent())) {
            throw new Failure("refused", key + " " + v + " is not a file of the agent's private directory " + dir, null);
        }
        String bad;
        try {
            bad = PrivateDir.check(dir, PrivateDir.euid());
        } catch (IOException e) {
            bad = Failure.describe(e);
        }
        if (bad != null) throw new Failure("refused", bad, null);
        if (Files.isSymbolicLink(p)) throw new Failure("refused", key + " " + p + " is a symlink", null);
        return p;
    }

    static void loadNative(Path lib) throws Failure {
        String path = lib.toString();
        synchronized (nativeLock) {
            if (path.equals(nativeLib)) return;
            if (nativeLib != null) {
                throw new Failure("native", "this JVM already loaded the native library " + nativeLib + "; it cannot load " + path + " beside it", null);
            }
            try {
                System.load(path);
            } catch (Throwable t) {
                throw new Failure("native", "cannot load " + path + ": " + Failure.describe(t), null);
            }
            nativeLib = path;
        }
    }
}
