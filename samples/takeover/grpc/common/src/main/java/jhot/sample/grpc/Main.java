package jhot.sample.grpc;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.ChannelOption;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * jhot takeover sample: a grpc-java server (grpc-netty, HTTP/2 cleartext) serving {@link Hello}.
 * Shared by v1 and v2; what differs is {@link HelloService}.
 *
 * <pre>
 * java -jar grpc-v1.jar [--port=P] [--bind=ADDR] [--graceful=true|false]
 *      [--graceful-seconds=N] [--exit-at-start] [--never-ready]
 * </pre>
 *
 * Default port 50051, gRPC's own (inside Linux's ephemeral port range). Prints
 * {@code READY app=grpc version=v1 port=P pid=N} once it serves. Graceful stop (default; a
 * shutdown hook, as in grpc-java's examples): {@code server.shutdown()}, which closes the listener
 * and sends GOAWAY on every connection (clients move their new calls to a new connection, calls in
 * flight finish), then {@code awaitTermination} within {@code --graceful-seconds} (default 5) and
 * {@code shutdownNow()} after that. {@code --graceful=false} registers no hook at all.
 */
public final class Main {
    static final String APP = "grpc";
    static final int BACKLOG = 1024;

    private Main() {}

    public static void main(String[] args) throws Exception {
        int port = 50051;
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
        InetSocketAddress addr = bind == null
                ? new InetSocketAddress(port)
                : new InetSocketAddress(InetAddress.getByName(bind), port);
        if (neverReady) {
            neverReady(addr);
            return;
        }

        HelloService service = new HelloService();
        Server server = NettyServerBuilder.forAddress(addr)
                .withOption(ChannelOption.SO_BACKLOG, BACKLOG)
                .withOption(ChannelOption.SO_REUSEADDR, true)
                .addService(service)
                .build()
                .start();
        if (graceful) {
            final int seconds = gracefulSeconds;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.shutdown(); // stop accepting, GOAWAY on every connection
                try {
                    if (!server.awaitTermination(seconds, TimeUnit.SECONDS)) {
                        System.err.println(APP + ": calls still in flight after " + seconds + " s; cancelling them");
                        server.shutdownNow();
                        server.awaitTermination(1, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    server.shutdownNow();
                }
                service.close();
            }, "graceful-stop"));
        }
        int boundPort = port;
        for (SocketAddress a : server.getListenSockets()) {
            if (a instanceof InetSocketAddress) boundPort = ((InetSocketAddress) a).getPort();
        }
        System.out.println("READY app=" + APP + " version=" + HelloService.version()
                + " port=" + boundPort + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
        // grpc-netty's event loops are daemon threads: main keeps the JVM alive.
        server.awaitTermination();
    }

    /** Binds and listens on {@code addr}, never accepts, prints BOUND and idles until killed. */
    static void neverReady(InetSocketAddress addr) throws IOException, InterruptedException {
        ServerSocketChannel ch = ServerSocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        ch.bind(addr, BACKLOG);
        int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        System.out.println("BOUND app=" + APP + " version=" + HelloService.version()
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
        System.err.println("usage: java -jar " + APP + "-vN.jar [--port=P] [--bind=ADDR]"
                + " [--graceful=true|false] [--graceful-seconds=N] [--exit-at-start] [--never-ready]");
        System.exit(2);
    }
}
