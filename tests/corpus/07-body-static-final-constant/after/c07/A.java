package c07;

public class A {
    public static final int LIMIT = 20;
    public static final String NAME = "two";

    public String describe() {
        return NAME + LIMIT;
    }
}
