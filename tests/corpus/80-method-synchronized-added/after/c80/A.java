package c80;

public class A {
    public synchronized int f() {
        return 1;
    }
}
