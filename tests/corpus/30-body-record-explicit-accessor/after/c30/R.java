package c30;

public record R(int x, String name) {
    public String name() {
        return name == null ? "" : name;
    }
}
