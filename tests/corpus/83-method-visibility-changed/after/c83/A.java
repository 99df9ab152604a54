package c83;

public class A {
    protected int f() {
        return 1;
    }
}
