package jhot.sample.spring;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Answers every request (v1b: only the bodies of version(), hello() and slow() differ from v1).
 */
@RestController
public class HelloController {
    private static final long MAX_SLEEP_MS = 600_000;

    private final String hello = "hello from " + version() + "\n";
    private final String pid = Long.toString(ProcessHandle.current().pid());

    static String version() {
        return "v1b";
    }

    @GetMapping("/")
    public ResponseEntity<String> hello() {
        return answer(HttpStatus.OK, "hello from v1b\n");
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
        return answer(HttpStatus.OK, "hello from v1b\n");
    }

    @GetMapping("/health")
    public ResponseEntity<String> health() {
        return answer(HttpStatus.OK, "ok\n");
    }

    private ResponseEntity<String> answer(HttpStatus status, String body) {
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.TEXT_PLAIN);
        h.set("X-Gen", version());
        h.set("X-Pid", pid);
        return new ResponseEntity<>(body, h, status);
    }
}
