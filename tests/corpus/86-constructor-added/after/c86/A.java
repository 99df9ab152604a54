package c86;

public class A {
    int x;

    public A() {
    }

    public A(int x) {
        this.x = x;
    }
}
