package c81;

public class A {
    public final int f() {
        return 1;
    }
}
