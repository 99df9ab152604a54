package c19;

public class A {
    public void close() {
    }
}
