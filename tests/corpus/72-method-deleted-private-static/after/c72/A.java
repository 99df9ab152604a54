package c72;

public class A {
    public int one() {
        return 1;
    }
}
