package c77;

public class A {
    public int count() {
        return 1;
    }
}
