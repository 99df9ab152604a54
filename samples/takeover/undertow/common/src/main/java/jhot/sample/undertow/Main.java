package jhot.sample.undertow;

import io.undertow.Handlers;
import io.undertow.UndertowOptions;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.handlers.GracefulShutdownHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.util.HttpString;
import org.xnio.ChannelListeners;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * jhot takeover sample: plain embedded Undertow (undertow-core's {@code HttpHandler} API, no
 * servlet). Shared by v1 and v2; what differs is {@link HelloHandler}. {@code /slow} is dispatched
 * from the I/O thread to Undertow's worker pool ({@value #WORKER_THREADS} threads) and sleeps there.
 *
 * <p>The listener is wired at the XNIO level (an {@link XnioWorker}, an {@link HttpOpenListener} and
 * the {@link AcceptingChannel}), as {@code Undertow.builder()} does inside, because the builder
 * offers no way to stop accepting while the connections stay open: {@code ListenerInfo.suspend()}
 * closes every connection (requests in flight included), and {@code Undertow.stop()} too.
 *
 * <pre>
 * java -jar undertow-v1.jar --port=P [--bind=ADDR] [--graceful=true|false]
 *      [--graceful-seconds=N] [--exit-at-start] [--never-ready]
 * </pre>
 *
 * Prints {@code READY app=undertow version=v1 port=P pid=N} once it accepts connections. Graceful
 * stop (default; a shutdown hook), all within {@code --graceful-seconds} (default 5): close the
 * listener (stop accepting), {@link GracefulShutdownHandler#shutdown()} and wait for the requests
 * in flight (from {@code shutdown()} on, Undertow answers a new request on an open keep-alive
 * connection with 503, as in every server built on it), then close the connections and stop the
 * worker. {@code --graceful=false}: no shutdown hook at all.
 */
public final class Main {
    static final String APP = "undertow";
    static final int BACKLOG = 1024;
    static final int IO_THREADS = 2;
    static final int WORKER_THREADS = 64;

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
        // The wildcard address (dual-stack where the machine has IPv6), as the other samples bind.
        InetAddress host = bind == null ? new InetSocketAddress(port).getAddress() : InetAddress.getByName(bind);
        if (neverReady) {
            neverReady(new InetSocketAddress(host, port));
            return;
        }
        // Undertow and XNIO log their versions at INFO through java.util.logging (stderr): keep it quiet.
        java.util.logging.Logger.getLogger("io.undertow").setLevel(java.util.logging.Level.WARNING);
        java.util.logging.Logger.getLogger("org.xnio").setLevel(java.util.logging.Level.WARNING);

        GracefulShutdownHandler inFlight = Handlers.gracefulShutdown(new HelloHandler());
        XnioWorker worker = Xnio.getInstance(HttpOpenListener.class.getClassLoader()).createWorker(OptionMap.builder()
                .set(Options.WORKER_IO_THREADS, IO_THREADS)
                .set(Options.WORKER_TASK_CORE_THREADS, WORKER_THREADS)
                .set(Options.WORKER_TASK_MAX_THREADS, WORKER_THREADS)
                .set(Options.TCP_NODELAY, true)
                .getMap());
        HttpOpenListener http = new HttpOpenListener(new DefaultByteBufferPool(true, 16 * 1024),
                OptionMap.create(UndertowOptions.ALWAYS_SET_DATE, true));
        // X-Gen and X-Pid on every answer, Undertow's own 503 during the graceful stop included, so
        // that the load generator can tell whose it is (HelloHandler sets the same values again).
        String pid = Long.toString(ProcessHandle.current().pid());
        HttpString xGen = new HttpString("X-Gen"), xPid = new HttpString("X-Pid");
        http.setRootHandler(exchange -> {
            exchange.getResponseHeaders().put(xGen, HelloHandler.version()).put(xPid, pid);
            inFlight.handleRequest(exchange);
        });
        AcceptingChannel<StreamConnection> listener = worker.createStreamConnectionServer(
                new InetSocketAddress(host, port), ChannelListeners.openListenerAdapter(http), OptionMap.builder()
                        .set(Options.BACKLOG, BACKLOG)
                        .set(Options.REUSE_ADDRESSES, true)
                        .set(Options.TCP_NODELAY, true)
                        .getMap());
        listener.resumeAccepts();
        if (graceful) {
            final long timeoutNanos = TimeUnit.SECONDS.toNanos(gracefulSeconds);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                long deadline = System.nanoTime() + timeoutNanos;
                try {
                    listener.close();                                                  // stop accepting
                    inFlight.shutdown();
                    inFlight.awaitShutdown(TimeUnit.NANOSECONDS.toMillis(timeoutNanos)); // requests in flight
                    http.closeConnections();
                    worker.shutdown();
                    worker.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (IOException e) {
                    System.err.println(APP + ": graceful stop: " + e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "graceful-stop"));
        }
        int boundPort = listener.getLocalAddress(InetSocketAddress.class).getPort();
        System.out.println("READY app=" + APP + " version=" + HelloHandler.version()
                + " port=" + boundPort + " pid=" + ProcessHandle.current().pid());
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
