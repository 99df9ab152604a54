package c20;

public class A {
    public int helper() {
        return 1;
    }
}
