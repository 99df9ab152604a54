package c25;

public class A {
    public int code(E e) {
        switch (e) {
            case RED:
                return 1;
            default:
                return 2;
        }
    }
}
