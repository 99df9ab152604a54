package c70;

public class A {
    public int one() {
        return 1;
    }
}
