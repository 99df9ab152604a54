import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Test server for native/shim's integration tests, run with the source launcher:
 * {@code java -Dsun.net.httpserver.nodelay=true Server.java PORT}. A JDK HttpServer on
 * 127.0.0.1:PORT; "/" answers with the pid, the peer address and the path, "/env" with the
 * environment a child process of the server sees.
 */
public class Server {
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        InetSocketAddress addr = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port);
        HttpServer server = HttpServer.create(addr, 50);
        server.createContext("/", ex -> reply(ex, "jvm pid=" + ProcessHandle.current().pid()
                + " peer=" + ex.getRemoteAddress().getAddress().getHostAddress()
                + ":" + ex.getRemoteAddress().getPort()
                + " path=" + ex.getRequestURI().getPath() + "\n"));
        server.createContext("/env", ex -> {
            Process p = new ProcessBuilder("/usr/bin/env").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reply(ex, out);
        });
        server.start();
        System.out.println("ready " + server.getAddress().getPort());
    }

    static void reply(HttpExchange ex, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }
}
