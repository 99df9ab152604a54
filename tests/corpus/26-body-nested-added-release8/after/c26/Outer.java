package c26;

public class Outer {
    static class Added {
        int value() {
            return 2;
        }
    }

    int value() {
        return new Added().value();
    }
}
