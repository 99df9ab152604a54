package hello;

/**
 * PATCH lazy: "lazy v1" -> "lazy v2".
 *
 * Not loaded until the first {@code GET /lazy}: used to test patching a class that is not loaded
 * yet. {@code patches/lazy} makes it answer "lazy v2".
 */
public final class Lazy {
    private Lazy() {}

    public static String answer() {
        return "lazy v2";
    }
}
