package c74;

public class A {
    public int one() {
        return 1;
    }
}
