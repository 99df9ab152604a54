package jhot.sample.deploy;

/** What {@code GET /lazy} answers (base). Not loaded before the first /lazy request. */
final class LazyThing {
    private LazyThing() {}

    static String answer() {
        return "base";
    }
}
