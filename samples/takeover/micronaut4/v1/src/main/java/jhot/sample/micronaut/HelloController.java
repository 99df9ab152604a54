package jhot.sample.micronaut;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Error;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

/**
 * Answers every request (v1). Routes: {@code /}, {@code /slow?ms=N} (runs on Micronaut's blocking
 * executor and sleeps there, never on a Netty event loop), {@code /health}; any other path is a
 * 404 answered here too, so that it carries X-Gen and X-Pid.
 */
@Controller
public class HelloController {
    private static final long MAX_SLEEP_MS = 600_000;

    private final String hello = "hello from " + version() + "\n";
    private final String pid = Long.toString(ProcessHandle.current().pid());

    static String version() {
        return "v1";
    }

    @Get(uri = "/", produces = MediaType.TEXT_PLAIN)
    public HttpResponse<String> hello() {
        return answer(HttpStatus.OK, hello);
    }

    @Get(uri = "/slow", produces = MediaType.TEXT_PLAIN)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> slow(@Nullable @QueryValue("ms") String ms) throws InterruptedException {
        long n = queryLong(ms);
        if (n < 0) return answer(HttpStatus.BAD_REQUEST, "bad request\n");
        Thread.sleep(Math.min(n, MAX_SLEEP_MS));
        return answer(HttpStatus.OK, hello);
    }

    @Get(uri = "/health", produces = MediaType.TEXT_PLAIN)
    public HttpResponse<String> health() {
        return answer(HttpStatus.OK, "ok\n");
    }

    @Error(status = HttpStatus.NOT_FOUND, global = true)
    public HttpResponse<String> notFound() {
        return answer(HttpStatus.NOT_FOUND, "not found\n");
    }

    private HttpResponse<String> answer(HttpStatus status, String body) {
        return HttpResponse.<String>status(status)
                .contentType(MediaType.TEXT_PLAIN_TYPE)
                .header("X-Gen", version())
                .header("X-Pid", pid)
                .body(body);
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
