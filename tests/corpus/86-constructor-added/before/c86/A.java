package c86;

public class A {
    int x;

    public A() {
    }
}
