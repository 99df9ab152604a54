package c19;

import java.io.IOException;

public class A {
    public void close() throws IOException {
    }
}
