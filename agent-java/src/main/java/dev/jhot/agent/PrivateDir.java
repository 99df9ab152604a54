package dev.jhot.agent;

import java.io.File;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The directory that guards the channel files: no other user may be able to touch it. Public
 * for send_fds, which touches only files of this directory.
 *
 * Attributes are read as one {@code unix:} map (type and permissions from the mode): the typed
 * views (PosixFileAttributes, PosixFilePermission sets) load a dozen JDK classes that are not in
 * the default CDS archive, which a cold agent pays inside the first command's time.
 */
public final class PrivateDir {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;

    private PrivateDir() {
    }

    /** The JVM's effective uid. /proc/self is a root-owned symlink; the directory it points to
     *  is owned by the process's euid, so the link must be followed here. */
    public static int euid() throws IOException {
        int u = euid;
        if (u < 0) euid = u = (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        return u;
    }

    /** A JVM cannot change its uid (Java has no setuid), so it is read once. */
    private static volatile int euid = -1;

    static Path defaultDir() throws IOException {
        return Paths.get("/tmp/.jhot-" + euid());
    }

    /** {@code unix:mode,uid,ino,dev,size} of p, not following a symlink. */
    static Map<String, Object> stat(Path p) throws IOException {
        return Files.readAttributes(p, "unix:mode,uid,ino,dev,size", NOFOLLOW);
    }

    static int mode(Map<String, Object> a) {
        return (Integer) a.get("mode");
    }

    static int uid(Map<String, Object> a) {
        return (Integer) a.get("uid");
    }

    /** Creates dir (mode 0700) if absent; returns why it must not be used, or null if it is safe. */
    public static String check(Path dir, int uid) {
        try {
            // Normally jhot made it; creating it anyway would throw (an exception is costly when
            // interpreted). A dangling link is not "there": creating then fails and the link is
            // refused below.
            if (!new File(dir.toString()).exists()) {
                try {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (FileAlreadyExistsException e) {
                    // someone (jhot, or an earlier agent) made it; verified below like any other
                }
            }
            Map<String, Object> a = stat(dir);
            int mode = mode(a);
            if ((mode & S_IFMT) != S_IFDIR) return dir + ((mode & S_IFMT) == S_IFLNK ? " is a symlink" : " is not a directory");
            int owner = uid(a);
            if (owner != uid) return dir + " is owned by uid " + owner + ", not " + uid;
            if ((mode & 077) != 0) return dir + " has mode " + Integer.toOctalString(mode & 0777) + ", want 700";
            return null;
        } catch (IOException | RuntimeException e) {
            return dir + ": " + Failure.describe(e);
        }
    }
}
