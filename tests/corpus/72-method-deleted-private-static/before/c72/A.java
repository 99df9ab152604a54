package c72;

public class A {
    public int one() {
        return helper();
    }

    private static int helper() {
        return 1;
    }
}
