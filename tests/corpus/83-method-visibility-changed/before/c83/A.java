package c83;

public class A {
    public int f() {
        return 1;
    }
}
