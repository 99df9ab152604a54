package c25;

public class A {
    public int code(E e) {
        if (e == E.RED) {
            return 1;
        }
        return 2;
    }
}
