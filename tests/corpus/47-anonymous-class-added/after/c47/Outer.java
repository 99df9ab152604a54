package c47;

public class Outer {
    Runnable task() {
        return new Runnable() {
            @Override
            public void run() {
            }
        };
    }
}
