package c64;

public class A {
    public int check(int x) {
        return x;
    }
}
