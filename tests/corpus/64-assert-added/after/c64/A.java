package c64;

public class A {
    public int check(int x) {
        assert x >= 0 : "negative";
        return x;
    }
}
