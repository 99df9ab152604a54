package jhot.sample.deploy;

/**
 * What {@code GET /} and {@code GET /helper} answer (v2). Structural change: adds the field
 * {@code greeted} and the method {@code greeted()}.
 */
final class Greeter {
    private static volatile long greeted;

    private Greeter() {}

    static String greet() {
        greeted++;
        return "v2";
    }

    static String helper() {
        return "none";
    }

    static long greeted() {
        return greeted;
    }
}
