package c28;

public interface I {
    default String hello() {
        return "hello, world";
    }
}
