package jhot.sample.jetty;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers every request (v2). Routes: {@code /}, {@code /slow?ms=N} (sleeps on the Jetty pool
 * thread that called it: a {@code Handler.Abstract} is blocking), {@code /health}.
 *
 * STRUCTURAL CHANGE from v1 (not redefinable by Instrumentation.redefineClasses): adds the field
 * {@code served} and the method {@code served()} (requests answered by this handler); and it
 * answers "hello from v2" with {@code X-Gen: v2}. Everything else is identical to v1.
 */
final class HelloHandler extends Handler.Abstract {
    private static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NOT_FOUND = "not found\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BAD = "bad request\n".getBytes(StandardCharsets.US_ASCII);
    private static final long MAX_SLEEP_MS = 600_000;

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
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = request.getHttpURI().getPath();
        switch (path == null ? "" : path) {
            case "/":
                return answer(response, callback, HttpStatus.OK_200, hello);
            case "/slow": {
                long ms = queryLong(request.getHttpURI().getQuery(), "ms");
                if (ms < 0) return answer(response, callback, HttpStatus.BAD_REQUEST_400, BAD);
                Thread.sleep(Math.min(ms, MAX_SLEEP_MS));
                return answer(response, callback, HttpStatus.OK_200, hello);
            }
            case "/health":
                return answer(response, callback, HttpStatus.OK_200, OK);
            default:
                return answer(response, callback, HttpStatus.NOT_FOUND_404, NOT_FOUND);
        }
    }

    private boolean answer(Response response, Callback callback, int status, byte[] body) {
        served.incrementAndGet();
        response.setStatus(status);
        response.getHeaders()
                .put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8")
                .put(HttpHeader.CONTENT_LENGTH, body.length)
                .put("X-Gen", version())
                .put("X-Pid", pid);
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
    }

    /** The value of query parameter {@code name} (0 when absent), or -1 when it is not a number. */
    static long queryLong(String query, String name) {
        if (query == null) return 0;
        for (String kv : query.split("&")) {
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            if (!k.equals(name)) continue;
            String v = eq < 0 ? "" : kv.substring(eq + 1);
            if (v.isEmpty()) return 0;
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return 0;
    }
}
