package dev.jhot.integrations;

/** Where the shared code writes its lines: each plugin passes its build tool's logger. */
public interface JhotLog {
    void info(String line);

    void warn(String line);

    void debug(String line);
}
