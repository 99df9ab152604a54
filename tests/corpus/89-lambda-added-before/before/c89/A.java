package c89;

import java.util.function.IntSupplier;

public class A {
    public int first() {
        return 1;
    }

    public int second() {
        IntSupplier s = () -> 2;
        return s.getAsInt();
    }
}
