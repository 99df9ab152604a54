package jhot.sample.micronaut;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.Micronaut;
import io.micronaut.runtime.server.EmbeddedServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * jhot takeover sample: Micronaut 4 on its Netty HTTP server (NIO transport). Shared by v1 and v2;
 * what differs is {@link HelloController}. {@code /slow} runs on Micronaut's blocking executor
 * ({@code @ExecuteOn(TaskExecutors.BLOCKING)}).
 *
 * <pre>
 * java -jar micronaut4-v1.jar --port=P [--bind=ADDR] [--graceful=true|false]
 *      [--graceful-seconds=N] [--exit-at-start] [--never-ready]
 * </pre>
 *
 * Prints {@code READY app=micronaut4 version=v1 port=P pid=N} once it accepts connections.
 * Configuration is given as properties here (no application.yml): the port and bind address, a
 * listen backlog of {@value #BACKLOG}, no banner.
 *
 * <p>Graceful stop (default): what Micronaut 4 offers. {@code Micronaut.start()} registers a shutdown
 * hook that stops the server and closes the context, and
 * {@code micronaut.lifecycle.graceful-shutdown.enabled=true} (off by default in Micronaut) makes that
 * a graceful shutdown: the Netty listener stops accepting and closes its socket, idle connections
 * close, requests in flight finish (each connection closes after its answer), all within
 * {@code micronaut.lifecycle.graceful-shutdown.grace-period} = {@code --graceful-seconds} (default
 * 5), after which Micronaut logs "Timeout hit in graceful shutdown, forcing stop" and closes what is
 * left. {@code --graceful=false}: the context and server are started by hand instead of through
 * {@code Micronaut.start()}, so that there is no shutdown hook at all.
 */
public final class Main {
    static final String APP = "micronaut4";
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
        if (neverReady) {
            neverReady(bind == null ? new InetSocketAddress(port) : new InetSocketAddress(InetAddress.getByName(bind), port));
            return;
        }
        // slf4j-simple writes to stderr; Micronaut's INFO lines ("Startup completed in ...") are not wanted there either.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }

        Map<String, Object> props = new HashMap<>();
        props.put("micronaut.server.port", port);
        if (bind != null) props.put("micronaut.server.host", bind); // unset: every address, dual-stack
        props.put("micronaut.server.netty.options.so-backlog", BACKLOG);
        props.put("micronaut.server.netty.child-options.tcp-nodelay", true);
        props.put("micronaut.lifecycle.graceful-shutdown.enabled", graceful);
        props.put("micronaut.lifecycle.graceful-shutdown.grace-period", gracefulSeconds + "s");

        EmbeddedServer server;
        if (graceful) {
            // As a Micronaut application starts: Micronaut.start() registers its shutdown hook.
            ApplicationContext ctx = Micronaut.build(new String[0])
                    .mainClass(Main.class)
                    .banner(false)
                    .deduceEnvironment(false)
                    .properties(props)
                    .start();
            server = ctx.getBean(EmbeddedServer.class);
        } else {
            // The same context and server, started by hand: Micronaut registers no shutdown hook.
            ApplicationContext ctx = ApplicationContext.builder()
                    .banner(false)
                    .deduceEnvironment(false)
                    .properties(props)
                    .start();
            server = ctx.getBean(EmbeddedServer.class);
            server.start();
        }
        System.out.println("READY app=" + APP + " version=" + HelloController.version()
                + " port=" + server.getPort() + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
        if (!graceful) {
            Thread.currentThread().join(); // keeps the JVM up as Micronaut.start() does: until a signal ends it
        }
    }

    /** Binds and listens on {@code addr}, never accepts, prints BOUND and idles until killed. */
    static void neverReady(InetSocketAddress addr) throws IOException, InterruptedException {
        ServerSocketChannel ch = ServerSocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        ch.bind(addr, BACKLOG);
        int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        System.out.println("BOUND app=" + APP + " version=" + HelloController.version()
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
