package dev.jhot.agent;

import java.util.List;

/**
 * A request that fails with one of the protocol's error kinds. Expected, so no stack trace.
 * Public: the operations (dev.jhot.agent.ops) throw it, and read kind and classes to re-throw.
 */
public final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    /** The error kind of the reply (docs/protocol.md, "Requests and responses"). */
    public final String kind;
    /** The classes the reply names, or null. */
    public final transient List<String> classes;
    /** Request id, when the failure happens before the dispatcher knows it (frame decoding). */
    final long id;

    public Failure(String kind, String message, List<String> classes) {
        this(kind, message, classes, 0);
    }

    Failure(String kind, String message, List<String> classes, long id) {
        super(message, null, false, false);
        this.kind = kind;
        this.classes = classes;
        this.id = id;
    }

    /** A malformed request; the connection closes after the reply. */
    public static Failure protocol(String message) {
        return new Failure("protocol", message, null);
    }

    /** A Throwable as replies and log lines show it: its class, and its message if it has one. */
    public static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null ? t.getClass().getName() : t.getClass().getName() + ": " + m;
    }

    /** Protocol and auth failures leave the stream untrustworthy, so the connection ends. */
    boolean closes() {
        return kind.equals("protocol") || kind.equals("auth");
    }
}
