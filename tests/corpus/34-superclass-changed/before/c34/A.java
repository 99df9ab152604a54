package c34;

public class A {
    public int f() {
        return 1;
    }
}
