package dev.jhot.maven;

import java.io.File;

/**
 * Where the {@code jhot} binary comes from: {@code jhot.executable} if given, else the first
 * executable {@code jhot} on {@code PATH}. Nothing is downloaded.
 */
final class Executable {
    private Executable() {}

    /** The binary, or {@code null} when neither names one (the caller says what to do). */
    static File find(String configured, String path) throws IllegalArgumentException {
        if (configured != null && !configured.trim().isEmpty()) {
            File f = new File(configured.trim());
            if (!f.isFile() || !f.canExecute()) {
                throw new IllegalArgumentException(
                        "jhot.executable=" + configured + " is not an executable file");
            }
            return f;
        }
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            File f = new File(dir, "jhot");
            if (f.isFile() && f.canExecute()) {
                return f;
            }
        }
        return null;
    }
}
