package c07;

public class A {
    public static final int LIMIT = 10;
    public static final String NAME = "one";

    public String describe() {
        return NAME + LIMIT;
    }
}
