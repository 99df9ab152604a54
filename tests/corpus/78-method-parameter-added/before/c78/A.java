package c78;

public class A {
    public int scale(int x) {
        return x;
    }
}
