package c95;

public class Outer {
    private int secret = 42;

    static class Inner {
        int peek(Outer o) {
            return 0;
        }
    }
}
