package c43;

public class Outer {
    class Node {
        int value() {
            return 1;
        }
    }
}
