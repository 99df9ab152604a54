package c41;

public class Outer {
    static class Helper {
        int value() {
            return 1;
        }
    }

    int use() {
        return new Helper().value();
    }
}
