package jhot.sample.spring;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers every request (v2). Routes: {@code /}, {@code /slow?ms=N}, {@code /health}.
 *
 * STRUCTURAL CHANGE from v1 (not redefinable by Instrumentation.redefineClasses): v2 adds the
 * instance field {@code served} and the method {@code served()}; and it answers "hello from v2"
 * with {@code X-Gen: v2}. Everything else is identical to v1.
 */
@RestController
public class HelloController {
    private static final long MAX_SLEEP_MS = 600_000;

    private final String hello = "hello from " + version() + "\n";
    private final String pid = Long.toString(ProcessHandle.current().pid());
    /** v2: new field. */
    private final AtomicLong served = new AtomicLong();

    static String version() {
        return "v2";
    }

    /** v2: new method. The number of answers so far. */
    long served() {
        return served.get();
    }

    @GetMapping("/")
    public ResponseEntity<String> hello() {
        return answer(HttpStatus.OK, hello);
    }

    @GetMapping("/slow")
    public ResponseEntity<String> slow(@RequestParam(name = "ms", defaultValue = "0") long ms) {
        if (ms < 0) {
            return answer(HttpStatus.BAD_REQUEST, "bad ms\n");
        }
        try {
            Thread.sleep(Math.min(ms, MAX_SLEEP_MS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return answer(HttpStatus.OK, hello);
    }

    @GetMapping("/health")
    public ResponseEntity<String> health() {
        return answer(HttpStatus.OK, "ok\n");
    }

    private ResponseEntity<String> answer(HttpStatus status, String body) {
        served.incrementAndGet();
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.TEXT_PLAIN);
        h.set("X-Gen", version());
        h.set("X-Pid", pid);
        return new ResponseEntity<>(body, h, status);
    }
}
