package jhot.sample.deploy;

/** What {@code GET /} and {@code GET /helper} answer (base). */
final class Greeter {
    private Greeter() {}

    static String greet() {
        return "base";
    }

    static String helper() {
        return "none";
    }
}
