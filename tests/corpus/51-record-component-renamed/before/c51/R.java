package c51;

public record R(int x, int y) {
}
