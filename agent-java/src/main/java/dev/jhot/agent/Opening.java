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
     *  ({@link PrivateDir#check}). It is named after {@code request}'s
     *  {@code <nspid>-<nonce>.req}, the pid jhot looks for: a cold request pays for the marker
     *  before its answer, and asking the JDK for its pid costs a fresh JVM 12-20 ms
     *  (ProcessHandleImpl's static set-up, a lambda and an executor among it). */
    static Path mark(Path dir, String request) {
        try {
            String pid = request == null ? null : pidOf(request);
            Path p = dir.resolve((pid != null ? pid : Long.toString(ProcessHandle.current().pid())) + ".opening");
            Files.deleteIfExists(p);
            Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return p;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The digits before the first '-', or null. */
    static String pidOf(String request) {
        int dash = request.indexOf('-');
        if (dash <= 0 || dash > 10) return null;
        for (int i = 0; i < dash; i++) {
            char c = request.charAt(i);
            if (c < '0' || c > '9') return null;
        }
        return request.substring(0, dash);
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
