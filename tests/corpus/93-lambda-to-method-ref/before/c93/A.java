package c93;

import java.util.function.Function;

public class A {
    public String upper(String s) {
        Function<String, String> f = x -> x.toUpperCase();
        return f.apply(s);
    }
}
