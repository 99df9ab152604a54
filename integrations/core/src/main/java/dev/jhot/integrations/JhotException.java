package dev.jhot.integrations;

/**
 * A jhot run that must fail the build; the message says what happened and what to do. Each plugin
 * turns it into its build tool's failure.
 */
public final class JhotException extends Exception {
    private static final long serialVersionUID = 1L;

    /** True when jhot itself could not be run or read (not a verdict of jhot's). */
    private final boolean broken;

    public JhotException(String message) {
        this(message, false, null);
    }

    public JhotException(String message, boolean broken, Throwable cause) {
        super(message, cause);
        this.broken = broken;
    }

    public boolean isBroken() {
        return broken;
    }
}
