package c33;

public class A {
    public strictfp double half(double x) {
        return x / 2;
    }
}
