package jhot.sample.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * Every route of the fixture. The same in every variant: what changes between variants is in the
 * classes it calls (Greeter, LazyThing, Gen000..Gen199, Helper), which it calls on every request,
 * so a redefinition shows in the next answer.
 */
final class Routes implements HttpHandler {
    private final String variant;
    private final String pid = Long.toString(ProcessHandle.current().pid());
    private final String propsAnswer;
    private final long genAtStart;

    Routes(String variant, Properties props) {
        this.variant = variant;
        this.propsAnswer = "greeting.prefix=" + props.getProperty("greeting.prefix", "") + "\n";
        // Loads and initialises all 200 generated classes, and Greeter, at startup (so that a
        // deploy changes classes the JVM has loaded; LazyThing alone waits for its first request).
        this.genAtStart = GenAll.sum();
        Greeter.greet();
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try {
            switch (ex.getRequestURI().getPath()) {
                case "/":
                    send(ex, 200, "greeting=" + Greeter.greet() + "\n");
                    break;
                case "/gen":
                    send(ex, 200, "gen=" + GenAll.sum() + "\n");
                    break;
                case "/lazy":
                    // The only reference to LazyThing: it loads on the first /lazy request.
                    send(ex, 200, "lazy=" + LazyThing.answer() + "\n");
                    break;
                case "/helper":
                    send(ex, 200, "helper=" + Greeter.helper() + "\n");
                    break;
                case "/props":
                    send(ex, 200, propsAnswer);
                    break;
                case "/health":
                    send(ex, 200, "ok\n");
                    break;
                default:
                    send(ex, 404, "not found\n");
            }
        } finally {
            ex.close();
        }
    }

    private void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.getResponseHeaders().set("X-Variant", variant);
        ex.getResponseHeaders().set("X-Pid", pid);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }
}
