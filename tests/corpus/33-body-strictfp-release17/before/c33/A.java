package c33;

public class A {
    public double half(double x) {
        return x / 2;
    }
}
