package c91;

import java.util.function.IntSupplier;

public class A {
    int base = 1;

    public int get() {
        return base;
    }
}
