package jhotfx.fresh;

/** A new class whose superclass is new too: sent before it, so its first define fails. */
public class Util extends Base {
    public static String hi() {
        return "util";
    }
}
