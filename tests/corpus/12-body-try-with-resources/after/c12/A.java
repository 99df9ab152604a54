package c12;

import java.io.StringReader;

public class A {
    public int first(String s) throws Exception {
        try (StringReader r = new StringReader(s)) {
            return r.read();
        }
    }
}
