package c88;

public interface I {
    String name();

    default String greeting() {
        return "hello " + name();
    }
}
