package c48;

public class Outer {
    Object first() {
        return null;
    }

    Runnable second() {
        return new Runnable() {
            @Override
            public void run() {
            }
        };
    }
}
