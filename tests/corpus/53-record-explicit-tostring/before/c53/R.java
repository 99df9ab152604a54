package c53;

public record R(int x) {
}
