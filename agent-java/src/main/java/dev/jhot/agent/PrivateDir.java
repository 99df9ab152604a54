package dev.jhot.agent;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The directory that guards the channel files: no other user may be able to touch it. Public
 * for send_fds, which touches only files of this directory.
 */
public final class PrivateDir {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

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

    /** Creates dir (mode 0700) if absent; returns why it must not be used, or null if it is safe. */
    public static String check(Path dir, int uid) {
        try {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                // someone (jhot, or an earlier agent) made it; verified below like any other
            }
            PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, NOFOLLOW);
            if (a.isSymbolicLink()) return dir + " is a symlink";
            if (!a.isDirectory()) return dir + " is not a directory";
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", NOFOLLOW);
            if (owner != uid) return dir + " is owned by uid " + owner + ", not " + uid;
            for (PosixFilePermission p : a.permissions()) {
                if (!p.name().startsWith("OWNER_")) {
                    return dir + " has mode " + PosixFilePermissions.toString(a.permissions()) + ", want rwx------";
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return dir + ": " + Failure.describe(e);
        }
    }
}
