package c79;

public class A {
    public int f() {
        return 1;
    }
}
