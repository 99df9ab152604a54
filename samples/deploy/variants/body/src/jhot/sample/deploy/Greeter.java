package jhot.sample.deploy;

/** What {@code GET /} and {@code GET /helper} answer (body: only greet()'s body differs from base). */
final class Greeter {
    private Greeter() {}

    static String greet() {
        return "body";
    }

    static String helper() {
        return "none";
    }
}
