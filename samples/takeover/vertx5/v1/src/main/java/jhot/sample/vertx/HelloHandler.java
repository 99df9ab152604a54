package jhot.sample.vertx;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

import java.nio.charset.StandardCharsets;

/**
 * Answers every request (v1), on the event loop of its connection. Routes: {@code /},
 * {@code /slow?ms=N} (answers when a Vert.x timer fires: nothing blocks), {@code /health}.
 */
final class HelloHandler implements Handler<HttpServerRequest> {
    private static final Buffer OK = Buffer.buffer("ok\n".getBytes(StandardCharsets.US_ASCII));
    private static final Buffer NOT_FOUND = Buffer.buffer("not found\n".getBytes(StandardCharsets.US_ASCII));
    private static final Buffer BAD = Buffer.buffer("bad request\n".getBytes(StandardCharsets.US_ASCII));
    private static final long MAX_SLEEP_MS = 600_000;

    private final Buffer hello = Buffer.buffer(("hello from " + version() + "\n").getBytes(StandardCharsets.US_ASCII));
    private final String pid = Long.toString(ProcessHandle.current().pid());
    private final Vertx vertx;
    private final InFlight slow;

    HelloHandler(Vertx vertx, InFlight slow) {
        this.vertx = vertx;
        this.slow = slow;
    }

    static String version() {
        return "v1";
    }

    @Override
    public void handle(HttpServerRequest req) {
        switch (req.path()) {
            case "/":
                answer(req, 200, hello);
                break;
            case "/slow": {
                long ms = queryLong(req.getParam("ms"));
                if (ms < 0) {
                    answer(req, 400, BAD);
                } else if (ms == 0) {
                    answer(req, 200, hello);
                } else {
                    slow.begin();
                    vertx.setTimer(Math.min(ms, MAX_SLEEP_MS), id -> {
                        try {
                            answer(req, 200, hello);
                        } finally {
                            slow.end();
                        }
                    });
                }
                break;
            }
            case "/health":
                answer(req, 200, OK);
                break;
            default:
                answer(req, 404, NOT_FOUND);
        }
    }

    private void answer(HttpServerRequest req, int status, Buffer body) {
        req.response()
                .setStatusCode(status)
                .putHeader("Content-Type", "text/plain; charset=utf-8")
                .putHeader("Content-Length", Integer.toString(body.length()))
                .putHeader("X-Gen", version())
                .putHeader("X-Pid", pid)
                .end(body);
    }

    /** The value of the query parameter (0 when absent), or -1 when it is not a number. */
    private static long queryLong(String value) {
        if (value == null || value.isEmpty()) return 0;
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
