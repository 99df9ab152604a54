package c31;

public record R(int x, @Deprecated String name) {
}
