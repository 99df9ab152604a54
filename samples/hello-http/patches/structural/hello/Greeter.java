package hello;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * PATCH structural: adds a field ({@code last}) and a public method ({@code last()}). HotSpot's
 * RedefineClasses must refuse it ("attempted to change the schema (add/remove fields)" or
 * "attempted to add a method"); the running code must stay v1.
 *
 * <p>Patched by {@code patches/body} (greet body), {@code patches/lambda} (lambda body) and
 * {@code patches/structural} (adds a field and a method: the JVM must refuse it).
 */
public final class Greeter {
    /** Greetings served so far. */
    private static final AtomicLong GREETINGS = new AtomicLong();

    /** NEW FIELD: the last greeting. */
    private static volatile String last;

    private Greeter() {}

    /** {@code GET /}. */
    public static String greet() {
        GREETINGS.incrementAndGet();
        last = "Hello from v3";
        return last;
    }

    /** NEW METHOD. */
    public static String last() {
        return last;
    }

    /** {@code GET /lambda}: goes through a lambda (a private synthetic method lambda$decorate$0). */
    public static String decorate(String s) {
        return apply(s, x -> x + " (lambda v1)");
    }

    private static String apply(String s, UnaryOperator<String> f) {
        return f.apply(s);
    }

    /** {@code GET /fields}: number of declared fields, as reflection sees them (1 in v1). */
    public static int fieldCount() {
        return Greeter.class.getDeclaredFields().length;
    }
}
