package c14;

public class A {
    public int sum(int a, int b) {
        return a + b;
    }
}
