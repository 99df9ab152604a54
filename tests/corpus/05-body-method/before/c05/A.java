package c05;

public class A {
    public int twice(int x) {
        return x * 2;
    }
}
