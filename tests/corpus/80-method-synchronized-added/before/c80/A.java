package c80;

public class A {
    public int f() {
        return 1;
    }
}
