package c71;

public class A {
    public int one() {
        return 1;
    }

    public int two() {
        return 2;
    }
}
