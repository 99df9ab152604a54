package jhotfx;

/** A new class in a package the target loader already has (defined through a Lookup). */
public class Helper {
    public static String hi() {
        return "helper";
    }
}
