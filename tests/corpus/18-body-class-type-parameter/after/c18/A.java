package c18;

public class A<T> {
    public int one() {
        return 1;
    }
}
