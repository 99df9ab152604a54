package dev.jhot.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** The {@code <pid>.opening} marker: the agent is loaded and its channel is about to open. */
final class Opening {
    private Opening() {
    }

    /** Returns the marker, or null when it cannot be made. The caller has checked dir
     *  ({@link PrivateDir#check}). */
    static Path mark(Path dir) {
        try {
            Path p = dir.resolve(ProcessHandle.current().pid() + ".opening");
            Files.deleteIfExists(p);
            Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return p;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static void clear(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // A leftover marker only makes a later jhot wait a little before it loads the agent.
        }
    }
}
