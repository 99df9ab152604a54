package jhot.sample.jdkhttp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Answers every request (v1). Routes: {@code /}, {@code /slow?ms=N}, {@code /health}.
 */
final class HelloHandler implements HttpHandler {
    private static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NOT_FOUND = "not found\n".getBytes(StandardCharsets.US_ASCII);
    private static final long MAX_SLEEP_MS = 600_000;

    private final byte[] hello = ("hello from " + version() + "\n").getBytes(StandardCharsets.US_ASCII);
    private final String pid = Long.toString(ProcessHandle.current().pid());

    static String version() {
        return "v1";
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try {
            switch (ex.getRequestURI().getPath()) {
                case "/":
                    send(ex, 200, hello);
                    break;
                case "/slow": {
                    long ms = queryLong(ex.getRequestURI().getRawQuery(), "ms");
                    if (ms < 0) {
                        send(ex, 400, "bad ms\n".getBytes(StandardCharsets.US_ASCII));
                        break;
                    }
                    try {
                        Thread.sleep(Math.min(ms, MAX_SLEEP_MS));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    send(ex, 200, hello);
                    break;
                }
                case "/health":
                    send(ex, 200, OK);
                    break;
                default:
                    send(ex, 404, NOT_FOUND);
            }
        } finally {
            ex.close();
        }
    }

    private void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.getResponseHeaders().set("X-Gen", version());
        ex.getResponseHeaders().set("X-Pid", pid);
        ex.sendResponseHeaders(status, body.length); // fixed length: Content-Length, keep-alive
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** The value of query parameter {@code name} (0 when absent), or -1 when it is not a number. */
    static long queryLong(String rawQuery, String name) {
        if (rawQuery == null) return 0;
        for (String kv : rawQuery.split("&")) {
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            if (k.equals(name)) {
                try {
                    return eq < 0 ? 0 : Long.parseLong(kv.substring(eq + 1));
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return 0;
    }
}
