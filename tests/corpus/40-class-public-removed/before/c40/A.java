package c40;

public class A {
    public int f() {
        return 1;
    }
}
