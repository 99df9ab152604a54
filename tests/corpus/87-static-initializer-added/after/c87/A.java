package c87;

public class A {
    static int x;

    static {
        x = 1;
    }
}
