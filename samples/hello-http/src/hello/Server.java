package hello;

/** A started HTTP server; both implementations route every request through {@link Routes}. */
interface Server {
    /** The bound port (useful when started with port 0). */
    int port();

    /** Human-readable name of the implementation, for the log line. */
    String kind();
}
