package c16;

public class A {
    int size;

    public int size() {
        return size;
    }
}
