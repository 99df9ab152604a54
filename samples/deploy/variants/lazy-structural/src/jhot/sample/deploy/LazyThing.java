package jhot.sample.deploy;

/** What {@code GET /lazy} answers (lazy-structural: a new method beside answer(), so a LazyThing
 *  already loaded with base's bytes cannot be redefined). */
final class LazyThing {
    private LazyThing() {}

    static String answer() {
        return "changed-" + suffix();
    }

    static String suffix() {
        return "structurally";
    }
}
