package c68;

public class A {
    public int one() {
        return 1;
    }
}
