package jhot.sample.maven;

/** The class the tests change: in its body (redefined in place) or its shape (structural). */
public final class Greeter {
    private Greeter() {}

    public static String greeting() {
        return "greeting=v1";
    }
}
