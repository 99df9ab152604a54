package c77;

public class A {
    public long count() {
        return 1L;
    }
}
