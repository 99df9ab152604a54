package jhot.sample.deploy;

/**
 * What {@code GET /} and {@code GET /helper} answer (helper: the bodies of greet() and helper() now
 * call the class Helper, which base does not have; fields and methods are those of base).
 */
final class Greeter {
    private Greeter() {}

    static String greet() {
        return Helper.tag("helper:");
    }

    static String helper() {
        return Helper.tag("");
    }
}
