package jhot.sample.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * jhot takeover sample: a Netty HTTP/1.1 server on the native epoll transport. Shared by v1 and
 * v2; what differs is {@link HelloHandler}. {@code /slow} sleeps on a pool of {@value #SLOW_THREADS}
 * worker threads ({@link Slow}), never on an event loop.
 *
 * <pre>
 * java -jar netty-epoll-v1.jar --port=P [--bind=ADDR] [--graceful=true|false]
 *      [--graceful-seconds=N] [--exit-at-start] [--never-ready]
 * </pre>
 *
 * Prints {@code READY app=netty-epoll version=v1 port=P pid=N} once it accepts connections. Graceful
 * stop (default; a shutdown hook): close the server channel, wait for {@code /slow} requests in
 * flight, then shut the event loops down with a 100 ms quiet period, all within
 * {@code --graceful-seconds} (default 5).
 */
public final class Main {
    static final String APP = "netty-epoll";
    static final int SLOW_THREADS = 32;
    static final int BACKLOG = 1024;
    static final int MAX_CONTENT = 64 * 1024;
    static final long QUIET_MS = 100;

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
        InetSocketAddress addr = bind == null
                ? new InetSocketAddress(port)
                : new InetSocketAddress(InetAddress.getByName(bind), port);
        if (neverReady) {
            neverReady(addr);
            return;
        }
        if (!Epoll.isAvailable()) {
            System.err.println(APP + ": the native epoll transport is not available; refusing to fall back to NIO");
            Epoll.unavailabilityCause().printStackTrace();
            System.exit(1);
        }

        IoHandlerFactory epoll = EpollIoHandler.newFactory();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("epoll-boss"), epoll);
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("epoll-worker"), epoll);
        Slow slow = new Slow(SLOW_THREADS);
        HelloHandler hello = new HelloHandler(slow);

        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, BACKLOG)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ChannelPipeline p = ch.pipeline();
                        p.addLast("codec", new HttpServerCodec());
                        p.addLast("aggregator", new HttpObjectAggregator(MAX_CONTENT));
                        p.addLast("keep-alive", new HttpServerKeepAliveHandler());
                        p.addLast("hello", hello);
                    }
                });
        Channel server;
        try {
            server = b.bind(addr).sync().channel();
        } catch (Exception e) {
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
        if (graceful) {
            final long timeoutNanos = TimeUnit.SECONDS.toNanos(gracefulSeconds);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                long deadline = System.nanoTime() + timeoutNanos;
                server.close().awaitUninterruptibly(timeoutNanos, TimeUnit.NANOSECONDS); // stop accepting
                slow.awaitIdle(deadline);                                                   // /slow in flight
                long left = Math.max(QUIET_MS, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                Future<?> bf = boss.shutdownGracefully(QUIET_MS, left, TimeUnit.MILLISECONDS);
                Future<?> wf = workers.shutdownGracefully(QUIET_MS, left, TimeUnit.MILLISECONDS);
                bf.awaitUninterruptibly(left + 1000);
                wf.awaitUninterruptibly(left + 1000);
                slow.shutdownNow();
            }, "graceful-stop"));
        }
        int boundPort = ((InetSocketAddress) server.localAddress()).getPort();
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
