package c31;

public record R(int x, String name) {
}
