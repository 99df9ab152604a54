package jhot.sample.jdkhttp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * jhot takeover sample: an HTTP server on the JDK's {@code com.sun.net.httpserver.HttpServer} with a
 * fixed pool of 32 worker threads. Shared by v1 and v2; what differs is {@link HelloHandler}.
 *
 * <pre>
 * java -Dsun.net.httpserver.nodelay=true -jar jdk-httpserver-v1.jar --port=P [--bind=ADDR]
 *      [--graceful=true|false] [--graceful-seconds=N] [--exit-at-start] [--never-ready] [--unhealthy]
 * </pre>
 *
 * {@code --unhealthy}: {@code /health} answers 503 while everything else is served as usual (a
 * build whose readiness check fails, for the tests of a rolled-back replacement).
 *
 * Prints {@code READY app=jdk-httpserver version=v1 port=P pid=N} once it accepts connections.
 */
public final class Main {
    static final String APP = "jdk-httpserver";
    static final int THREADS = 32;
    static final int BACKLOG = 1024;

    private Main() {}

    public static void main(String[] args) throws Exception {
        int port = 8080;
        String bind = null;
        boolean graceful = true;
        int gracefulSeconds = 2;
        boolean exitAtStart = false;
        boolean neverReady = false;
        boolean unhealthy = false;
        for (String a : args) {
            String k = a, v = null;
            int eq = a.indexOf('=');
            if (eq >= 0) {
                k = a.substring(0, eq);
                v = a.substring(eq + 1);
            }
            switch (k) {
                case "--port": port = Integer.parseInt(need(k, v)); break;
                case "--bind": bind = need(k, v); break;
                case "--graceful": graceful = v == null || Boolean.parseBoolean(v); break;
                case "--graceful-seconds": gracefulSeconds = Integer.parseInt(need(k, v)); break;
                case "--exit-at-start": exitAtStart = true; break;
                case "--never-ready": neverReady = true; break;
                case "--unhealthy": unhealthy = true; break;
                default: usage("unknown argument: " + a);
            }
        }
        if (exitAtStart) {
            System.err.println(APP + ": --exit-at-start: exiting with status 3");
            System.exit(3);
        }
        InetSocketAddress addr = bind == null
                ? new InetSocketAddress(port)
                : new InetSocketAddress(InetAddress.getByName(bind), port);
        if (neverReady) {
            neverReady(addr);
            return;
        }

        // Nagle + delayed ACK caps keep-alive throughput of this server; default the switch on
        // (an explicit -Dsun.net.httpserver.nodelay=false still wins). Read when ServerImpl loads.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }

        HttpServer server = HttpServer.create(addr, BACKLOG);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS, named("http-worker-"));
        server.setExecutor(pool);
        server.createContext("/", new HelloHandler());
        if (unhealthy) {
            server.createContext("/health", Main::unhealthy);
        }
        server.start();
        if (graceful) {
            final int seconds = gracefulSeconds;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                // Stops accepting, waits up to `seconds` for exchanges in flight, closes the rest.
                server.stop(seconds);
                pool.shutdownNow();
            }, "graceful-stop"));
        }
        System.out.println("READY app=" + APP + " version=" + HelloHandler.version()
                + " port=" + server.getAddress().getPort() + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
    }

    /** Binds and listens on {@code addr}, never accepts, prints BOUND and idles until killed. */
    static void neverReady(InetSocketAddress addr) throws IOException, InterruptedException {
        ServerSocketChannel ch = ServerSocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        ch.bind(addr, BACKLOG);
        int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        System.out.println("BOUND app=" + APP + " version=" + HelloHandler.version()
                + " port=" + port + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void unhealthy(HttpExchange ex) throws IOException {
        byte[] body = "unhealthy\n".getBytes(StandardCharsets.US_ASCII);
        try {
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.getResponseHeaders().set("X-Gen", HelloHandler.version());
            ex.getResponseHeaders().set("X-Pid", Long.toString(ProcessHandle.current().pid()));
            ex.sendResponseHeaders(503, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        } finally {
            ex.close();
        }
    }

    private static String need(String k, String v) {
        if (v == null || v.isEmpty()) usage(k + " needs a value (" + k + "=...)");
        return v;
    }

    private static void usage(String why) {
        System.err.println(APP + ": " + why);
        System.err.println("usage: java -jar " + APP + "-vN.jar --port=P [--bind=ADDR]"
                + " [--graceful=true|false] [--graceful-seconds=N] [--exit-at-start] [--never-ready] [--unhealthy]");
        System.exit(2);
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> new Thread(r, prefix + n.incrementAndGet());
    }
}
