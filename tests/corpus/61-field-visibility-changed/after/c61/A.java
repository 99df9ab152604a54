package c61;

public class A {
    public int count;

    int get() {
        return count;
    }
}
