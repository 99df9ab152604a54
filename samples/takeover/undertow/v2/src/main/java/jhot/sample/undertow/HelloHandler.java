package jhot.sample.undertow;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers every request (v2). Routes: {@code /}, {@code /slow?ms=N} (dispatched to a worker thread
 * and sleeps there, never on an I/O thread), {@code /health}. One instance serves all connections.
 *
 * STRUCTURAL CHANGE from v1 (not redefinable by Instrumentation.redefineClasses): adds the field
 * {@code served} and the method {@code served()} (requests answered by this handler); and it
 * answers "hello from v2" with {@code X-Gen: v2}. Everything else is identical to v1.
 */
final class HelloHandler implements HttpHandler {
    private static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NOT_FOUND = "not found\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BAD = "bad request\n".getBytes(StandardCharsets.US_ASCII);
    private static final long MAX_SLEEP_MS = 600_000;
    private static final HttpString X_GEN = new HttpString("X-Gen");
    private static final HttpString X_PID = new HttpString("X-Pid");

    private final byte[] hello = ("hello from " + version() + "\n").getBytes(StandardCharsets.US_ASCII);
    private final String pid = Long.toString(ProcessHandle.current().pid());
    private final AtomicLong served = new AtomicLong();

    /** How many requests this handler has answered. */
    long served() {
        return served.get();
    }

    static String version() {
        return "v2";
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        switch (exchange.getRequestPath()) {
            case "/":
                answer(exchange, 200, hello);
                break;
            case "/slow": {
                long ms = queryLong(exchange.getQueryParameters().get("ms"));
                if (ms < 0) {
                    answer(exchange, 400, BAD);
                } else if (exchange.isInIoThread()) {
                    exchange.dispatch(this); // again, on a worker thread
                } else {
                    Thread.sleep(Math.min(ms, MAX_SLEEP_MS));
                    answer(exchange, 200, hello);
                }
                break;
            }
            case "/health":
                answer(exchange, 200, OK);
                break;
            default:
                answer(exchange, 404, NOT_FOUND);
        }
    }

    private void answer(HttpServerExchange exchange, int status, byte[] body) {
        served.incrementAndGet();
        exchange.setStatusCode(status);
        exchange.getResponseHeaders()
                .put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8")
                .put(Headers.CONTENT_LENGTH, body.length)
                .put(X_GEN, version())
                .put(X_PID, pid);
        exchange.getResponseSender().send(ByteBuffer.wrap(body));
    }

    /** The value of the query parameter (0 when absent), or -1 when it is not a number. */
    private static long queryLong(Deque<String> values) {
        if (values == null || values.isEmpty() || values.getFirst().isEmpty()) return 0;
        try {
            return Long.parseLong(values.getFirst());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
