package c05;

public class A {
    public int twice(int x) {
        int r = x + x;
        if (r < 0) {
            r = 0;
        }
        return r;
    }
}
