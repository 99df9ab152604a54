package c79;

public class A {
    public static int f() {
        return 1;
    }
}
