package jhot.sample.maven;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** GET / answers Greeter's greeting. `--port=N`; prints `READY pid=N` once it listens. */
public final class Main {
    public static void main(String[] args) throws Exception {
        int port = 8080;
        for (String a : args) {
            if (a.startsWith("--port=")) {
                port = Integer.parseInt(a.substring(7));
            }
        }
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 50);
        server.createContext("/", ex -> {
            byte[] body = (Greeter.greeting() + "\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        String pid = ManagementFactory.getRuntimeMXBean().getName().split("@")[0];
        System.out.println("READY port=" + port + " pid=" + pid);
        System.out.flush();
    }
}
