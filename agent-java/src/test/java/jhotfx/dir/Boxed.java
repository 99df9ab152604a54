package jhotfx.dir;

/** Served from a class directory that is rewritten after it loads. */
public class Boxed {
    public static String v() {
        return "boxed";
    }
}
