package c50;

public record R(int x, int y) {
}
