package c88;

public interface I {
    String name();
}
