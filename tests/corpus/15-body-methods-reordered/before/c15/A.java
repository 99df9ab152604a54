package c15;

public class A {
    public int one() {
        return 1;
    }

    public int two() {
        return 2;
    }

    private static int three() {
        return 3;
    }
}
