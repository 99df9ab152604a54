package c69;

public class A {
    public int one() {
        return 1;
    }
}
