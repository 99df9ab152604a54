package jhotfx;

/** The next build of Greeter (renamed to jhotfx/Greeter in the bytes): it uses two new classes. */
public class GreeterV2 {
    public static String greet() {
        return Helper.hi() + "+" + jhotfx.fresh.Util.hi();
    }
}
