package c39;

public abstract class A {
    public int f() {
        return 1;
    }
}
