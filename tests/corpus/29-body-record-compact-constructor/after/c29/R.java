package c29;

public record R(int x, int y) {
    public R {
        if (x < 0) {
            throw new IllegalArgumentException("x < 0");
        }
    }
}
