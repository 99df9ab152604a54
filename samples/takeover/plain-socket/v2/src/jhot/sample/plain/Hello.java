package jhot.sample.plain;

import java.nio.charset.StandardCharsets;

/**
 * Answers every request (v2). Routes: {@code /}, {@code /slow?ms=N}, {@code /health}.
 *
 * STRUCTURAL CHANGE from v1 (not redefinable by Instrumentation.redefineClasses): v2 adds the
 * field {@code served} and the method {@code served()}; and it answers "hello from v2".
 */
final class Hello {
    static final long MAX_SLEEP_MS = 600_000;
    final String pid;
    private final byte[] hello = ("hello from " + version() + "\n").getBytes(StandardCharsets.US_ASCII);

    /** v2: new field. */
    private final java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();

    /** v2: new method. The number of requests answered so far. */
    long served() {
        return served.get();
    }

    Hello(String pid) {
        this.pid = pid;
    }

    static String version() {
        return "v2";
    }

    static final class Response {
        final int status;
        final byte[] body;

        Response(int status, byte[] body) {
            this.status = status;
            this.body = body;
        }
    }

    Response handle(String target) {
        served.incrementAndGet();
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        switch (path) {
            case "/":
                return new Response(200, hello);
            case "/slow": {
                long ms = queryLong(q < 0 ? null : target.substring(q + 1), "ms");
                if (ms < 0) return new Response(400, "bad ms\n".getBytes(StandardCharsets.US_ASCII));
                try {
                    Thread.sleep(Math.min(ms, MAX_SLEEP_MS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new Response(200, hello);
            }
            case "/health":
                return new Response(200, "ok\n".getBytes(StandardCharsets.US_ASCII));
            default:
                return new Response(404, "not found\n".getBytes(StandardCharsets.US_ASCII));
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
