package c94;

import java.util.function.Function;

public class A {
    public String upper(String s) {
        Function<String, String> f = String::toUpperCase;
        return f.apply(s);
    }
}
