package c84;

public class A {
    public strictfp double half(double x) {
        return x / 2;
    }
}
