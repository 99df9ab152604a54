package jhot.sample.shop;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The takeover interface (v2): {@code /}, {@code /slow?ms=N}, {@code /health}, in plain text. The
 * {@code X-Gen} and {@code X-Pid} headers come from {@code web.GenerationHeaderFilter}, which asks
 * {@link #version()} on every request.
 *
 * STRUCTURAL CHANGE from v1 (not redefinable by Instrumentation.redefineClasses): v2 adds the
 * instance field {@code served} and the method {@code served()} ({@code greeting()} counts into
 * it, so it is no longer static); and it answers "hello from v2" (X-Gen: v2). Everything else is
 * identical to v1.
 */
@RestController
public class HelloController {
    private static final long MAX_SLEEP_MS = 600_000;

    /** v2: new field. */
    private final AtomicLong served = new AtomicLong();

    public static String version() {
        return "v2";
    }

    /** v2: new method. The number of answers to {@code /} and {@code /slow} so far. */
    long served() {
        return served.get();
    }

    @GetMapping("/")
    public ResponseEntity<String> hello() {
        return text(HttpStatus.OK, greeting());
    }

    @GetMapping("/slow")
    public ResponseEntity<String> slow(@RequestParam(name = "ms", defaultValue = "0") long ms) {
        if (ms < 0) {
            return text(HttpStatus.BAD_REQUEST, "bad ms\n");
        }
        try {
            Thread.sleep(Math.min(ms, MAX_SLEEP_MS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return text(HttpStatus.OK, greeting());
    }

    @GetMapping("/health")
    public ResponseEntity<String> health() {
        return text(HttpStatus.OK, "ok\n");
    }

    private String greeting() {
        served.incrementAndGet();
        return "hello from " + version() + "\n";
    }

    private static ResponseEntity<String> text(HttpStatus status, String body) {
        return ResponseEntity.status(status).contentType(MediaType.TEXT_PLAIN).body(body);
    }
}
