package c97;

public record A(E e) {
    public int code() {
        return switch (e) {
            case RED -> 1;
            case GREEN -> 2;
        };
    }
}
