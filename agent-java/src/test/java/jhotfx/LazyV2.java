package jhotfx;

/** The next build of Lazy (renamed to jhotfx/Lazy in the bytes). */
public class LazyV2 {
    public static String v() {
        return "lazy2";
    }
}
