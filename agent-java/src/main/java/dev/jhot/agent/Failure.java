package dev.jhot.agent;

import java.util.List;

/** A request that fails with one of the protocol's error kinds. Expected, so no stack trace. */
final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    final String kind;
    final transient List<String> classes;
    /** Request id, when the failure happens before the dispatcher knows it (frame decoding). */
    final long id;

    Failure(String kind, String message, List<String> classes) {
        this(kind, message, classes, 0);
    }

    Failure(String kind, String message, List<String> classes, long id) {
        super(message, null, false, false);
        this.kind = kind;
        this.classes = classes;
        this.id = id;
    }

    static Failure protocol(String message) {
        return new Failure("protocol", message, null);
    }

    /** Protocol and auth failures leave the stream untrustworthy, so the connection ends. */
    boolean closes() {
        return kind.equals("protocol") || kind.equals("auth");
    }
}
