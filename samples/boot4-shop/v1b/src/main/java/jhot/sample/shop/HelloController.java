package jhot.sample.shop;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The takeover interface (v1b: only the body of {@link #version()} differs from v1): {@code /},
 * {@code /slow?ms=N}, {@code /health}, in plain text. X-Gen and X-Pid come from
 * {@code web.GenerationHeaderFilter}, which asks {@link #version()} on every request.
 */
@RestController
public class HelloController {
    private static final long MAX_SLEEP_MS = 600_000;

    public static String version() {
        return "v1b";
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

    private static String greeting() {
        return "hello from " + version() + "\n";
    }

    private static ResponseEntity<String> text(HttpStatus status, String body) {
        return ResponseEntity.status(status).contentType(MediaType.TEXT_PLAIN).body(body);
    }
}
