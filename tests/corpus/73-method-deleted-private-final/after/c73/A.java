package c73;

public class A {
    public int one() {
        return 1;
    }
}
