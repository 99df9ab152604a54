package c49;

public class Outer {
    int value() {
        return 1;
    }
}
