package c29;

public record R(int x, int y) {
}
