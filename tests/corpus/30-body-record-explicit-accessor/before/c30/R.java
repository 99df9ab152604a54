package c30;

public record R(int x, String name) {
}
