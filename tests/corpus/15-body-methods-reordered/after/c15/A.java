package c15;

public class A {
    private static int three() {
        return 3;
    }

    public int two() {
        return 2;
    }

    public int one() {
        return 1;
    }
}
