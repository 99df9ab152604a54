package c45;

public class Outer {
    static class Kept {
        int value() {
            return 3;
        }
    }

    int value() {
        return 1;
    }
}
