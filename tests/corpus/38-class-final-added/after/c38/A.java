package c38;

public final class A {
    public int f() {
        return 1;
    }
}
