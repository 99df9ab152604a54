package jhot.sample.jetty;

import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * jhot takeover sample: plain embedded Jetty 12 (jetty-server's core API: a {@code Handler.Abstract},
 * no servlet). Shared by v1 and v2; what differs is {@link HelloHandler}. {@code /slow} sleeps on a
 * thread of Jetty's pool (a {@code Handler.Abstract} is a blocking handler).
 *
 * <pre>
 * java -jar jetty12-v1.jar --port=P [--bind=ADDR] [--graceful=true|false]
 *      [--graceful-seconds=N] [--exit-at-start] [--never-ready]
 * </pre>
 *
 * Prints {@code READY app=jetty12 version=v1 port=P pid=N} once it accepts connections. Graceful
 * stop (default): Jetty's own shutdown hook ({@code setStopAtShutdown}) stops the server with a stop
 * timeout of {@code --graceful-seconds} (default 5): the connector stops accepting and closes its
 * listener, the {@link GracefulHandler} waits for the requests in flight (answers written meanwhile
 * say {@code Connection: close}), then the connections close. {@code --graceful=false}: no shutdown
 * hook at all.
 */
public final class Main {
    static final String APP = "jetty12";
    static final int BACKLOG = 1024;
    static final int MAX_THREADS = 200;

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
        if (neverReady) {
            neverReady(bind == null ? new InetSocketAddress(port) : new InetSocketAddress(InetAddress.getByName(bind), port));
            return;
        }
        // slf4j-simple writes to stderr; INFO lines ("Started Server@...") are not wanted there either.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }

        QueuedThreadPool pool = new QueuedThreadPool(MAX_THREADS);
        pool.setName("jetty");
        Server server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(bind); // null: the wildcard address, dual-stack
        connector.setPort(port);
        connector.setAcceptQueueSize(BACKLOG);
        connector.setReuseAddress(true);
        server.addConnector(connector);

        String pid = Long.toString(ProcessHandle.current().pid());
        GracefulHandler inFlight = new GracefulHandler(new HelloHandler()) {
            @Override
            protected void handleShutdownRejection(Request request, Response response, Callback callback) {
                // Jetty's 503 for a request that arrives during the graceful stop: it carries
                // X-Gen and X-Pid like every other answer, so that the load generator can tell whose it is.
                response.getHeaders().put("X-Gen", HelloHandler.version()).put("X-Pid", pid);
                super.handleShutdownRejection(request, response, callback);
            }
        };
        server.setHandler(inFlight);
        if (graceful) {
            server.setStopTimeout(TimeUnit.SECONDS.toMillis(gracefulSeconds));
            server.setStopAtShutdown(true);
        } else {
            server.setStopAtShutdown(false); // no shutdown hook at all: SIGTERM ends the JVM as it is
        }
        server.start();
        System.out.println("READY app=" + APP + " version=" + HelloHandler.version()
                + " port=" + connector.getLocalPort() + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
        server.join();
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
