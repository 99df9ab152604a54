package c71;

public class A {
    public int one() {
        return 1;
    }
}
