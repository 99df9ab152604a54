package c53;

public record R(int x) {
    @Override
    public String toString() {
        return "R" + x;
    }
}
