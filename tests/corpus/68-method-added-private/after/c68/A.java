package c68;

public class A {
    public int one() {
        return helper();
    }

    private int helper() {
        return 1;
    }
}
