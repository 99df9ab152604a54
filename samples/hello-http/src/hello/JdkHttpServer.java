package hello;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The server on {@code com.sun.net.httpserver} (module {@code jdk.httpserver}). Only loaded when
 * {@link Main#hasJdkHttpServer()} found that module; see {@link SocketHttpServer} otherwise.
 */
final class JdkHttpServer implements Server {
    private final HttpServer server;

    private JdkHttpServer(HttpServer server) {
        this.server = server;
    }

    static Server start(int port) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        s.createContext("/", JdkHttpServer::exchange);
        s.setExecutor(Pool.create());
        s.start();
        return new JdkHttpServer(s);
    }

    private static void exchange(HttpExchange ex) throws IOException {
        try {
            Routes.Response r = Routes.handle(ex.getRequestMethod(), ex.getRequestURI().getRawPath());
            byte[] body = r.body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.getResponseHeaders().set("Connection", "close");
            boolean head = "HEAD".equals(ex.getRequestMethod());
            ex.sendResponseHeaders(r.status, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        } finally {
            ex.close();
        }
    }

    @Override
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public String kind() {
        return "com.sun.net.httpserver";
    }
}
