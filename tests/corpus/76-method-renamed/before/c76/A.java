package c76;

public class A {
    public int count() {
        return 1;
    }
}
