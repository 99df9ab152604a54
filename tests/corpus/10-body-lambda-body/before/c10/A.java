package c10;

import java.util.function.IntUnaryOperator;

public class A {
    public int apply(int x) {
        IntUnaryOperator f = v -> v + 1;
        return f.applyAsInt(x);
    }
}
