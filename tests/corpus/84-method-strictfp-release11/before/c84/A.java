package c84;

public class A {
    public double half(double x) {
        return x / 2;
    }
}
