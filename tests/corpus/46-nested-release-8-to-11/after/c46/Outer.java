package c46;

public class Outer {
    static class Inner {
        int value() {
            return 1;
        }
    }
}
