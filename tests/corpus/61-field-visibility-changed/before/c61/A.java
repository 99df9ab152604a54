package c61;

public class A {
    private int count;

    int get() {
        return count;
    }
}
