package c67;

public class A {
    public int one() {
        return 1;
    }
}
