package c49;

public class Outer {
    int value() {
        class Local {
            int get() {
                return 1;
            }
        }
        return new Local().get();
    }
}
