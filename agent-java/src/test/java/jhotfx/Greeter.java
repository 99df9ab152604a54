package jhotfx;

/** Fixture of AgentTests' deploy tests, loaded by a loader of their own: the running version. */
public class Greeter {
    public static String greet() {
        return "v1";
    }
}
