package c70;

public class A {
    public int one() {
        return helper();
    }

    private final int helper() {
        return 1;
    }
}
