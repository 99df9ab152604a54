package jhotfx;

/** Not loaded when a deploy patches it: the patch is pending. */
public class Lazy {
    public static String v() {
        return "lazy1";
    }
}
