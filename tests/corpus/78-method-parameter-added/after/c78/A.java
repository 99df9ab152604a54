package c78;

public class A {
    public int scale(int x, int factor) {
        return x * factor;
    }
}
