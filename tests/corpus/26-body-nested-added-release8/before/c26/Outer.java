package c26;

public class Outer {
    int value() {
        return 1;
    }
}
