package c76;

public class A {
    public int total() {
        return 1;
    }
}
