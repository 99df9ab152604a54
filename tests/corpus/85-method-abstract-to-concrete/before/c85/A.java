package c85;

public abstract class A {
    public abstract int f();
}
