package c39;

public class A {
    public int f() {
        return 1;
    }
}
