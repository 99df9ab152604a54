package jhot.sample.deploy;

/** New in the helper variant: a class that base does not have, called from Greeter's bodies. */
final class Helper {
    private Helper() {}

    static String tag(String prefix) {
        return prefix.concat("from-helper");
    }
}
