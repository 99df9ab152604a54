package c44;

public class Outer {
    int value() {
        return 1;
    }
}
