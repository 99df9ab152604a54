package c81;

public class A {
    public int f() {
        return 1;
    }
}
