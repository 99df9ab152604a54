package c97;

public record A(E e) {
    public int code() {
        return e == E.RED ? 1 : 2;
    }
}
