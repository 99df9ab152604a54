package c43;

public class Outer {
    static class Node {
        int value() {
            return 1;
        }
    }
}
