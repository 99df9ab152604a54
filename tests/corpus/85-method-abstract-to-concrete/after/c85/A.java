package c85;

public abstract class A {
    public int f() {
        return 1;
    }
}
