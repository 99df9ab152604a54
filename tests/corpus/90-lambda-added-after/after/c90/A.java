package c90;

import java.util.function.IntSupplier;

public class A {
    public int first() {
        IntSupplier s = () -> 1;
        return s.getAsInt();
    }

    public int second() {
        IntSupplier s = () -> 2;
        return s.getAsInt();
    }
}
