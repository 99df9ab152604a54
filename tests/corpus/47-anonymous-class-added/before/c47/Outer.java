package c47;

public class Outer {
    Runnable task() {
        return null;
    }
}
