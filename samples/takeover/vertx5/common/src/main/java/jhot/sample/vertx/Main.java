package jhot.sample.vertx;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * jhot takeover sample: a Vert.x 5 core HTTP server (vertx-core, NIO transport, one request
 * handler). Shared by v1 and v2; what differs is {@link HelloHandler}. {@code /slow} waits on a
 * Vert.x timer: no thread sleeps, the event loop is never blocked.
 *
 * <pre>
 * java -jar vertx5-v1.jar --port=P [--bind=ADDR] [--graceful=true|false]
 *      [--graceful-seconds=N] [--exit-at-start] [--never-ready]
 * </pre>
 *
 * Prints {@code READY app=vertx5 version=v1 port=P pid=N} once it accepts connections. Graceful
 * stop (default; a shutdown hook), all within {@code --graceful-seconds} (default 5): Vert.x 5's
 * {@code HttpServer.shutdown(timeout)} (unbinds the listener, closes idle connections, lets each
 * connection finish the request it is serving and then closes it), a wait for {@code /slow}
 * requests in flight, then {@code Vertx.close()}. {@code --graceful=false}: no shutdown hook at
 * all (Vert.x registers none of its own).
 */
public final class Main {
    static final String APP = "vertx5";
    static final int BACKLOG = 1024;

    private Main() {}

    public static void main(String[] args) throws Exception {
        int port = 8080;
        String bind = null;
        boolean graceful = true;
        int gracefulSeconds = 5;
        boolean exitAtStart = false;
        boolean neverReady = false;
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
                default: usage("unknown argument: " + a);
            }
        }
        if (exitAtStart) {
            System.err.println(APP + ": --exit-at-start: exiting with status 3");
            System.exit(3);
        }
        // The wildcard address (dual-stack where the machine has IPv6), as the other samples bind;
        // Vert.x's own default is 0.0.0.0.
        InetAddress host = bind == null ? new InetSocketAddress(port).getAddress() : InetAddress.getByName(bind);
        if (neverReady) {
            neverReady(new InetSocketAddress(host, port));
            return;
        }

        Vertx vertx = Vertx.vertx();
        InFlight inFlight = new InFlight();
        HttpServer server = vertx.createHttpServer(new HttpServerOptions()
                        .setHost(host.getHostAddress())
                        .setPort(port)
                        .setAcceptBacklog(BACKLOG)
                        .setReuseAddress(true)
                        .setTcpNoDelay(true))
                .requestHandler(new HelloHandler(vertx, inFlight));
        try {
            server.listen().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            throw e;
        }
        if (graceful) {
            final long timeoutNanos = TimeUnit.SECONDS.toNanos(gracefulSeconds);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                long deadline = System.nanoTime() + timeoutNanos;
                try {
                    server.shutdown(timeoutNanos, TimeUnit.NANOSECONDS).toCompletionStage().toCompletableFuture()
                            .get(timeoutNanos + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
                } catch (Exception e) {
                    System.err.println(APP + ": graceful stop: " + e);
                }
                inFlight.awaitIdle(deadline);
                try {
                    vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    System.err.println(APP + ": closing Vert.x: " + e);
                }
            }, "graceful-stop"));
        }
        System.out.println("READY app=" + APP + " version=" + HelloHandler.version()
                + " port=" + server.actualPort() + " pid=" + ProcessHandle.current().pid());
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

    private static String need(String k, String v) {
        if (v == null || v.isEmpty()) usage(k + " needs a value (" + k + "=...)");
        return v;
    }

    private static void usage(String why) {
        System.err.println(APP + ": " + why);
        System.err.println("usage: java -jar " + APP + "-vN.jar --port=P [--bind=ADDR]"
                + " [--graceful=true|false] [--graceful-seconds=N] [--exit-at-start] [--never-ready]");
        System.exit(2);
    }
}
