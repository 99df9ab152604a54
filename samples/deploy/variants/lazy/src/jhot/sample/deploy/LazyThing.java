package jhot.sample.deploy;

/** What {@code GET /lazy} answers (lazy: only answer()'s body differs from base). */
final class LazyThing {
    private LazyThing() {}

    static String answer() {
        return "changed";
    }
}
